"""A programme's indicators against their targets: the figure each one maps to, per
year, on the page and in the API; who may read them; small groups withheld; edits in the
admin audited."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from applicants.models import Applicant, Sex
from audit.models import AuditEvent
from grants.models import Delivery
from reports import figures as reports
from reports import indicators, services
from reports.models import Definition, Indicator, IndicatorTarget

from .conftest import verified_login
from .factories import ApplicantFactory, CountryFactory, ProgrammeFactory, staff

pytestmark = pytest.mark.django_db

API = "/api/v1/reports/indicators/"
IMPACT = "/api/v1/reports/impact/"
YEAR = 2025


def supported(world, count, *, on=datetime.date(YEAR, 6, 15), centre=None, programme=None):
    apps = []
    for _i in range(count):
        app = world.application(
            applicant=ApplicantFactory(centre=centre or world.centre),
            centre=centre or world.centre,
            programme=programme or world.programme,
            delivered=True,
        )
        Delivery.objects.filter(application=app).update(delivered_on=on)
        apps.append(app)
    return apps


def indicator(programme, code="1.1", definition=Definition.ENTERPRISES_SUPPORTED, targets=(), baseline=0):
    row = Indicator.objects.create(
        programme=programme,
        code=code,
        name_en=f"Enterprises {code}",
        name_sr_latn=f"Preduzeća {code}",
        name_sq=f"Ndërmarrje {code}",
        definition=definition,
        baseline=baseline,
    )
    for year, value, *sex in targets:
        IndicatorTarget.objects.create(indicator=row, year=year, value=value, sex=(sex or [""])[0])
    return row


class TestProgress:
    def test_it_shows_achieved_against_target_per_year_from_the_figures(self, world):
        supported(world, 6)
        supported(world, 5, on=datetime.date(YEAR + 1, 2, 1))
        indicator(world.programme, targets=[(YEAR, 10), (YEAR + 1, 20)])
        indicator(world.programme, "1.2", Definition.INVESTMENT_EUR, targets=[(YEAR, Decimal("5000"))])

        enterprises, investment = indicators.indicator_progress(world.manager, world.programme)

        assert [(p["year"], p["target"], p["achieved"]) for p in enterprises["progress"]] == [
            (YEAR, 10, 6),
            (YEAR + 1, 20, 5),
        ]
        assert enterprises["progress"][0]["share_of_target"] == Decimal("0.600")
        year_figures = reports.impact_figures(
            world.manager,
            reports.ReportFilters(
                programme=world.programme.pk,
                date_from=datetime.date(YEAR, 1, 1),
                date_to=datetime.date(YEAR, 12, 31),
            ),
        )
        assert investment["progress"][0]["achieved"] == year_figures["investment_eur"]
        assert investment["unit"] == "eur"

    def test_the_api_equals_the_impact_report_for_the_same_year(self, world, api):
        supported(world, 6)
        indicator(world.programme, targets=[(YEAR, 10)])
        indicator(world.programme, "2", Definition.INVESTMENT_EUR, targets=[(YEAR, 1000)])
        indicator(world.programme, "3", Definition.PEOPLE_TRAINED, targets=[(YEAR, 3)])

        body = api(world.manager).get(API, {"programme": world.programme.pk, "year": YEAR}).json()
        impact = (
            api(world.manager)
            .get(IMPACT, {"programme": world.programme.pk, "from": f"{YEAR}-01-01", "to": f"{YEAR}-12-31"})
            .json()
        )

        achieved = {row["definition"]: row["progress"][0]["achieved"] for row in body["results"]}
        assert achieved == {
            "enterprises_supported": impact["enterprises_supported"],
            "investment_eur": impact["investment_eur"],
            "people_trained": impact["people_trained"],
        }
        assert achieved["enterprises_supported"] == 6
        first = body["results"][0]
        assert first["name"] == {"en": "Enterprises 1.1", "sr-latn": "Preduzeća 1.1", "sq": "Ndërmarrje 1.1"}
        assert first["progress"][0] == {
            "from": f"{YEAR}-01-01",
            "to": f"{YEAR}-12-31",
            "year": YEAR,
            "sex": "",
            "target": 10,
            "achieved": 6,
            "share_of_target": "0.600",
            "withheld": False,
        }
        assert body["min_group_size"] is None

    def test_targets_per_sex_are_met_by_the_breakdown_by_sex(self, world, api):
        women = supported(world, 4)
        supported(world, 3)
        Applicant.objects.filter(pk__in=[app.applicant_id for app in women]).update(sex=Sex.FEMALE)
        indicator(world.programme, targets=[(YEAR, 10), (YEAR, 4, "female"), (YEAR, 6, "male")])

        (row,) = api(world.manager).get(API, {"programme": world.programme.pk}).json()["results"]

        by_sex = {p["sex"]: (p["target"], p["achieved"]) for p in row["progress"]}
        assert by_sex == {"": (10, 7), "female": (4, 4), "male": (6, 0)}
        impact = (
            api(world.manager)
            .get(
                IMPACT,
                {
                    "programme": world.programme.pk,
                    "from": f"{YEAR}-01-01",
                    "to": f"{YEAR}-12-31",
                    "by": "sex",
                },
            )
            .json()
        )
        assert {r["key"]: r["enterprises_supported"] for r in impact["breakdown"]}["female"] == 4

    def test_the_auditor_gets_small_groups_withheld(self, world, api):
        supported(world, 2)
        indicator(world.programme, targets=[(YEAR, 10)])

        body = api(world.auditor).get(API, {"programme": world.programme.pk}).json()
        (progress,) = body["results"][0]["progress"]
        assert (progress["achieved"], progress["withheld"], progress["target"]) == (None, True, 10)
        assert body["min_group_size"] == reports.MIN_GROUP_SIZE
        manager = api(world.manager).get(API, {"programme": world.programme.pk}).json()
        assert manager["results"][0]["progress"][0]["achieved"] == 2

    def test_queries_do_not_grow_with_indicators_or_years(self, world, django_assert_max_num_queries):
        supported(world, 3)
        for n in range(6):
            indicator(world.programme, f"i{n}", targets=[(YEAR + k, 10) for k in range(4)])
        with django_assert_max_num_queries(12):
            rows = indicators.indicator_progress(world.manager, world.programme)
        assert len(rows) == 6 and all(len(r["progress"]) == 4 for r in rows)


class TestAccess:
    @pytest.mark.parametrize("role", ["manager", "finance", "auditor"])
    def test_reporting_roles_read_the_api(self, world, api, role):
        indicator(world.programme, targets=[(YEAR, 1)])
        assert api(getattr(world, role)).get(API, {"programme": world.programme.pk}).status_code == 200

    @pytest.mark.parametrize("role", ["applicant", "officer", "procurement"])
    def test_other_roles_get_403(self, world, api, role):
        response = api(getattr(world, role)).get(API, {"programme": world.programme.pk})
        assert response.status_code == 403

    def test_anonymous_gets_401(self, world, api):
        assert api().get(API, {"programme": world.programme.pk}).status_code == 401

    def test_a_programme_outside_the_scope_is_not_found(self, world, api):
        elsewhere = ProgrammeFactory(country=CountryFactory(code="MK", name="North Macedonia"))
        assert api(world.manager).get(API, {"programme": elsewhere.pk}).status_code == 404

    @pytest.mark.parametrize("params", [{}, {"programme": "x"}, {"programme": 1, "year": "19"}])
    def test_bad_input_is_a_400(self, world, api, params):
        if params.get("programme") == 1:
            params["programme"] = world.programme.pk
        assert api(world.manager).get(API, params).status_code == 400

    @pytest.mark.parametrize(("role", "status"), [("manager", 200), ("auditor", 200), ("officer", 403)])
    def test_the_progress_page(self, world, role, status):
        supported(world, 6)
        indicator(world.programme, targets=[(YEAR, 12)])
        client = Client()
        verified_login(client, getattr(world, role))
        response = client.get("/reports/indicators/", {"programme": world.programme.pk})
        assert response.status_code == status
        if status == 200:
            text = response.content.decode()
            assert "Enterprises 1.1" in text and "50 %" in text


def admin_client(user):
    # Staff reach the admin with the staff flag (tests/test_admin.py).
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    verified_login(client, user)
    return client


class TestAdmin:
    def test_edits_are_audited(self, world):
        row = Indicator(
            programme=world.programme,
            code="1.1",
            name_en="Enterprises",
            name_sr_latn="Preduzeća",
            name_sq="Ndërmarrje",
            definition=Definition.ENTERPRISES_SUPPORTED,
        )
        services.save_indicator(indicator=row, by=world.manager)
        row.baseline = Decimal("4")
        services.save_indicator(indicator=row, by=world.manager)
        services.delete_indicator(indicator=row, by=world.manager)
        actions = list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))
        assert actions[-3:] == ["indicator_changed", "indicator_changed", "indicator_deleted"]
        changed = AuditEvent.objects.filter(action="indicator_changed").order_by("pk").last()
        assert set(changed.data["before"]) == set(changed.data["after"]) == {"baseline"}
        assert Decimal(changed.data["after"]["baseline"]) == 4

    def test_a_manager_adds_an_indicator_with_targets_in_the_admin(self, world):
        client = admin_client(world.manager)
        response = client.post(
            "/admin/reports/indicator/add/",
            {
                "programme": world.programme.pk,
                "position": 1,
                "code": "OC1",
                "name_en": "Jobs",
                "name_sr_latn": "Radna mesta",
                "name_sq": "Vende pune",
                "definition": "jobs_created",
                "baseline": "0",
                "targets-TOTAL_FORMS": "1",
                "targets-INITIAL_FORMS": "0",
                "targets-MIN_NUM_FORMS": "0",
                "targets-MAX_NUM_FORMS": "1000",
                "targets-0-year": str(YEAR),
                "targets-0-sex": "",
                "targets-0-value": "30",
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        row = Indicator.objects.get(code="OC1")
        assert list(row.targets.values_list("year", "value")) == [(YEAR, Decimal("30.000"))]
        assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
            "indicator_changed",
            "indicator_targets_changed",
        }

    def test_another_countrys_programme_is_not_offered(self, world):
        other_manager = staff("programme_manager", world.centre)
        client = admin_client(other_manager)
        page = client.get("/admin/reports/indicator/add/").content.decode()
        assert f'value="{world.programme.pk}"' in page
        assert f'value="{world.other_programme.pk}"' not in page
