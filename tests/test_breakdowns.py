"""Figures by sex, age band, disability, municipality (and the older groups), alone and
crossed: each group's figures equal counts made here from the rows, they add up to the
total, the Python rules and their SQL agree, the API answers `?by=sex,target_group` in a
bounded number of queries, and the facts are collected with their consent."""

import datetime

import pytest

from applicants import facts
from applicants.models import WG_DOMAINS, Applicant, ApplicantSensitive, TargetGroup
from applicants.services import register_applicant
from core.errors import ServiceError
from demo import seed as demo
from grants.models import GrantApplication
from reports import figures as reports
from reports.figures import NO_FILTERS, ReportFilters

from .factories import ApplicantFactory, ApplicantSensitiveFactory
from .test_reports import independent_figures

pytestmark = pytest.mark.django_db

IMPACT = "/api/v1/reports/impact/"
COUNTS = ("enterprises_supported", "families_with_non_cash_benefits", "people_trained", "investment_eur")


def supported(world, n, **applicant):
    for _ in range(n):
        world.application(applicant=ApplicantFactory(centre=world.centre, **applicant), delivered=True)


class TestRules:
    @pytest.mark.parametrize(
        ("answers", "expected"),
        [
            ({}, "unknown"),
            ({"wg_seeing": 1, "wg_hearing": 2}, "no"),
            (dict.fromkeys(WG_DOMAINS, 2), "no"),
            ({"wg_walking": 3}, "yes"),
            ({"wg_seeing": 1, "wg_communicating": 4}, "yes"),
        ],
    )
    def test_the_washington_group_cut_off(self, answers, expected):
        assert facts.disability(answers) == expected

    @pytest.mark.parametrize(
        ("born", "on", "band"),
        [
            (datetime.date(2000, 6, 15), datetime.date(2025, 6, 14), "15-24"),
            (datetime.date(2000, 6, 15), datetime.date(2025, 6, 15), "25-34"),
            (datetime.date(2000, 2, 29), datetime.date(2025, 2, 28), "15-24"),
            (datetime.date(2000, 2, 29), datetime.date(2025, 3, 1), "25-34"),
            (datetime.date(2012, 1, 1), datetime.date(2025, 1, 1), "<15"),
            (datetime.date(1975, 1, 1), datetime.date(2025, 1, 1), "50+"),
            (datetime.date(1975, 1, 2), datetime.date(2025, 1, 1), "35-49"),
        ],
    )
    def test_age_bands_count_completed_years(self, born, on, band):
        assert facts.age_band(born, on) == band

    def test_the_sql_of_age_bands_and_disability_agrees_with_python(self, world):
        on = datetime.date(2025, 2, 28)
        births = [
            datetime.date(2000, 2, 29),
            datetime.date(2000, 2, 28),
            datetime.date(2000, 3, 1),
            datetime.date(1990, 2, 28),
            datetime.date(1975, 2, 28),
            datetime.date(1975, 3, 1),
            datetime.date(2010, 2, 28),
            datetime.date(2010, 3, 1),
        ]
        answers = [{}, {"wg_seeing": 1}, {"wg_walking": 3}, {"wg_self_care": 4, "wg_hearing": 2}]
        people = []
        for i, born in enumerate(births):
            person = ApplicantFactory(centre=world.centre, date_of_birth=born)
            if answers[i % 4]:
                ApplicantSensitive.objects.create(applicant=person, **answers[i % 4])
            people.append(person)
        rows = Applicant.objects.filter(pk__in=[p.pk for p in people]).values_list(
            "pk",
            facts.age_band_expression("date_of_birth", on, (15, 25, 35, 50)),
            facts.disability_expression("sensitive__"),
        )
        by_pk = {pk: (band, disabled) for pk, band, disabled in rows}
        for person in Applicant.objects.filter(pk__in=by_pk).select_related("sensitive"):
            assert by_pk[person.pk] == (
                facts.age_band(person.date_of_birth, on),
                facts.disability_of(person),
            ), person.date_of_birth

    @pytest.mark.parametrize("bounds", [[], [25, 15], ["a"], [15, 200]])
    def test_bad_age_bands_are_refused(self, bounds):
        with pytest.raises(ValueError):
            facts.clean_age_bands(bounds)


class TestBreakdowns:
    def test_by_sex_each_group_is_its_people_and_they_add_up(self, world):
        supported(world, 3, sex="female")
        supported(world, 2, sex="male")
        supported(world, 1)
        rows = {row["key"]: row for row in reports.breakdown(world.manager, NO_FILTERS, "sex")}
        assert [key for key, _label in facts.sex_groups()] == list(rows)
        assert {k: rows[k]["enterprises_supported"] for k in rows} == {
            "female": 3,
            "male": 2,
            "other": 0,
            "not_said": 0,
            "unknown": 1,
        }
        total = reports.impact_figures(world.manager)
        assert sum(row["enterprises_supported"] for row in rows.values()) == total["enterprises_supported"]

    def test_age_bands_at_the_end_of_the_period_and_the_programmes_own_bands(self, world):
        supported(world, 2, date_of_birth=datetime.date(2001, 1, 1))
        supported(world, 1, date_of_birth=datetime.date(1970, 1, 1))
        # Deliveries are dated today; the period ends later so ages count at its end.
        end = datetime.date.today() + datetime.timedelta(days=1)
        filters = ReportFilters(date_to=end)
        rows = {
            row["key"]: row["enterprises_supported"]
            for row in reports.breakdown(world.manager, filters, "age_band")
        }
        assert rows[facts.age_band(datetime.date(2001, 1, 1), end)] == 2
        assert rows["50+"] == 1
        world.programme.age_bands = [18, 30, 60]
        world.programme.save()
        own = reports.breakdown(
            world.manager, ReportFilters(programme=world.programme.pk, date_to=end), "age_band"
        )
        assert [row["key"] for row in own] == ["<18", "18-29", "30-59", "60+"]
        assert {row["key"]: row["enterprises_supported"] for row in own}["30-59"] == 1

    def test_by_disability_reads_the_answers(self, world):
        supported(world, 2)
        person = ApplicantFactory(centre=world.centre)
        ApplicantSensitiveFactory(applicant=person, wg_walking=3)
        world.application(applicant=person, delivered=True)
        rows = {
            row["key"]: row["enterprises_supported"]
            for row in reports.breakdown(world.manager, NO_FILTERS, "disability")
        }
        assert rows == {"yes": 1, "no": 0, "unknown": 2}

    def test_crossed_rows_carry_both_keys_and_equal_the_filtered_figures(self, world):
        supported(world, 2, sex="female", is_returnee=True)
        supported(world, 1, sex="female", is_returnee=False, is_former_inmate=True)
        supported(world, 3, sex="male", is_returnee=True, is_socially_disadvantaged=True)
        rows = reports.breakdown(world.manager, NO_FILTERS, "sex,target_group")
        cell = {tuple(row["key"]): row for row in rows}
        assert cell[("female", "returnee")]["enterprises_supported"] == 2
        assert cell[("female", "former_inmate")]["enterprises_supported"] == 1
        assert cell[("male", "socially_disadvantaged")]["enterprises_supported"] == 3
        assert cell[("male", "returnee")]["keys"] == {"sex": "male", "target_group": "returnee"}
        assert cell[("male", "returnee")]["label"] == "Male · Returnee"
        # Each target group's cells add up to the figures of that group.
        for group in TargetGroup.values:
            whole = reports.impact_figures(world.manager, ReportFilters(target_group=group))
            assert (
                sum(r["enterprises_supported"] for r in rows if r["keys"]["target_group"] == group)
                == (whole["enterprises_supported"])
            )
        # Two groups that are fields: one grouped query per figure, keys as given.
        crossed = reports.breakdown(world.manager, NO_FILTERS, "centre,sex")
        mine = {tuple(r["key"]): r["enterprises_supported"] for r in crossed}
        assert mine[(world.centre.pk, "male")] == 3

    @pytest.mark.parametrize("by", ["sex,sex", "sex,age_band,centre", "gender", "sex,"])
    def test_a_bad_by_is_a_400_naming_it(self, world, api, by):
        response = api(world.manager).get(IMPACT, {"by": by})
        assert response.status_code == 400
        assert "by" in response.json()

    def test_the_api_answers_by_sex_and_target_group_in_bounded_queries(
        self, world, api, django_assert_max_num_queries
    ):
        supported(world, 6, sex="female")
        without = api(world.manager).get(IMPACT).json()
        assert "breakdown" not in without
        with django_assert_max_num_queries(40):
            body = api(world.manager).get(IMPACT, {"by": "sex,target_group"}).json()
        assert len(body["breakdown"]) == len(facts.sex_groups()) * len(TargetGroup.values)
        cell = next(r for r in body["breakdown"] if r["key"] == ["female", "returnee"])
        assert cell["enterprises_supported"] == 6
        assert cell["investment_eur"] == body["investment_eur"]
        supported(world, 20, sex="male")
        with django_assert_max_num_queries(40):
            api(world.manager).get(IMPACT, {"by": "sex,target_group"})
        with django_assert_max_num_queries(30):
            api(world.manager).get(IMPACT, {"by": "sex,age_band"})


class TestSeededData:
    """The acceptance check: from the demo data, the figures by sex and by sex × target
    group add up to the total and equal counts made here from the rows."""

    def test_by_sex_and_by_sex_and_target_group_equal_the_rows(self, db, django_user_model):
        assert demo.seed() is True
        manager = django_user_model.objects.get(username="manager")
        applications = list(GrantApplication.objects.select_related("applicant", "programme"))
        total = reports.impact_figures(manager)

        by_sex = reports.breakdown(manager, NO_FILTERS, "sex")
        assert sum(row["enterprises_supported"] for row in by_sex) == total["enterprises_supported"] > 0
        assert sum(row["investment_eur"] for row in by_sex) == total["investment_eur"]
        assert len([row for row in by_sex if row["enterprises_supported"]]) >= 2
        for row in by_sex:
            mine = [a for a in applications if facts.sex_key(a.applicant.sex) == row["key"]]
            expected = independent_figures(mine)
            assert {k: row[k] for k in COUNTS} == {k: expected[k] for k in COUNTS}, row["key"]

        crossed = reports.breakdown(manager, NO_FILTERS, "sex,target_group")
        for row in crossed:
            mine = [a for a in applications if facts.sex_key(a.applicant.sex) == row["keys"]["sex"]]
            expected = independent_figures(mine, target_group=row["keys"]["target_group"])
            assert {k: row[k] for k in COUNTS} == {k: expected[k] for k in COUNTS}, row["key"]
        for group in TargetGroup.values:
            whole = reports.impact_figures(manager, ReportFilters(target_group=group))
            cells = [r for r in crossed if r["keys"]["target_group"] == group]
            for figure in ("enterprises_supported", "investment_eur", "people_trained"):
                assert sum(r[figure] for r in cells) == whole[figure], (group, figure)

        by_disability = reports.breakdown(manager, NO_FILTERS, "disability")
        for row in by_disability:
            mine = [a for a in applications if facts.disability_of(a.applicant) == row["key"]]
            assert row["enterprises_supported"] == independent_figures(mine)["enterprises_supported"]


class TestCollecting:
    def register(self, world, **kwargs):
        values = {
            "by": world.officer,
            "first_name": "Ana",
            "last_name": "Jović",
            "date_of_birth": datetime.date(1994, 5, 6),
            "centre": world.centre,
            "target_groups": ["returnee"],
            "consent_given": True,
            "special_consents": ["return"],
        }
        return register_applicant(**{**values, **kwargs})

    def test_answers_are_stored_with_their_consent(self, world):
        person = self.register(
            world, sex="female", consent_disability=True, sensitive={"wg_seeing": 1, "wg_walking": 3}
        )
        assert person.sex == "female"
        assert person.consent_disability_at is not None
        assert (person.sensitive.wg_seeing, person.sensitive.wg_walking) == (1, 3)
        assert facts.disability_of(person) == "yes"

    def test_answers_without_their_consent_are_refused_and_nothing_is_stored(self, world):
        with pytest.raises(ServiceError) as refused:
            self.register(world, sensitive={"wg_seeing": 3})
        assert "consent_disability" in refused.value.details
        with pytest.raises(ServiceError) as refused:
            self.register(world, consent_disability=True, sensitive={"wg_seeing": 7})
        assert "wg_seeing" in refused.value.details
        with pytest.raises(ServiceError) as refused:
            self.register(world, sex="woman")
        assert "sex" in refused.value.details
        assert not Applicant.objects.filter(last_name="Jović").exists()

    def test_the_api_takes_sex_and_the_answers(self, world, api):
        body = {
            "first_name": "Ana",
            "last_name": "Jović",
            "date_of_birth": "1994-05-06",
            "centre": world.centre.pk,
            "target_groups": ["returnee"],
            "consent_given": True,
            "special_consents": ["return"],
            "sex": "female",
            "consent_disability": True,
            "sensitive": {"wg_hearing": 4},
        }
        response = api(world.officer).post("/api/v1/applicants/", body, format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["sex"] == "female"
        assert data["sensitive"]["disability"] == "yes"
        assert data["sensitive"]["wg_hearing"] == 4
        refused = api(world.officer).post(
            "/api/v1/applicants/", {**body, "consent_disability": False, "last_name": "Ilić"}, format="json"
        )
        assert refused.status_code == 400

    def test_the_finance_officer_and_auditor_never_receive_the_answers(self, world, api):
        person = self.register(world, consent_disability=True, sensitive={"wg_seeing": 4})
        for user in (world.finance, world.auditor, world.colleague):
            response = api(user).get(f"/api/v1/applicants/{person.pk}/")
            if response.status_code == 200:
                body = response.json()
                assert "sensitive" not in body
                assert not set(body) & {*WG_DOMAINS, "disability", "consent_disability_at"}
