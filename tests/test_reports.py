"""The programme figures and the budget report: each figure's definition on small
hand-built cases, the acceptance check against the demo data (figures equal sums computed
here, independently, from the same rows), filters, scoping and who may see them."""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from applicants.models import StaffAssignment, TargetGroup
from applicants.selectors import centre_ids, forget_permissions
from assessments.models import Enrolment, MonitoringVisit
from demo import seed as demo
from grants import services
from grants.models import (
    Commitment,
    Delivery,
    DeliveryLine,
    GrantApplication,
    Programme,
)
from grants.workflow import State
from reports import figures as reports
from reports.charts import quarters as quarters_of
from reports.figures import NO_FILTERS, ReportFilters

from .factories import (
    ApplicantFactory,
    CentreFactory,
    DeliveryFactory,
    DeliveryLineFactory,
    ProgrammeFactory,
    make_training_done,
    staff,
    today,
)

pytestmark = pytest.mark.django_db

IMPACT = "/api/v1/reports/impact/"
BUDGET = "/api/v1/reports/budget/"


def person(world, centre=None, **kwargs):
    return ApplicantFactory(centre=centre or world.centre, **kwargs)


def visit(application, months, *, visited_on, operating=True, owner=1, family=0, employees=0):
    MonitoringVisit.objects.update_or_create(
        application=application,
        months=months,
        defaults={
            "due_on": visited_on,
            "visited_on": visited_on,
            "operating": operating,
            "equipment_in_use": operating,
            "jobs_owner": owner,
            "jobs_family": family,
            "jobs_employees": employees,
        },
    )


def figures(user, **params):
    return reports.impact_figures(user, ReportFilters.from_params(params))


class TestEnterprisesAndFamilies:
    def test_it_counts_grants_that_reached_equipment_delivered_or_later(self, world):
        for trait in ("approved", "delivered", "follow_up", "completed"):
            world.application(applicant=person(world), **{trait: True})
        world.application(applicant=person(world), submitted=True)
        discontinued = world.application(applicant=person(world), follow_up=True)
        GrantApplication.objects.filter(pk=discontinued.pk).update(
            state=State.DISCONTINUED, closed_at=datetime.datetime.now(datetime.UTC)
        )

        result = figures(world.manager)

        assert result["enterprises_supported"] == 4  # delivered, follow_up, completed, discontinued
        assert result["families_with_non_cash_benefits"] == 4
        assert result["cooperatives_supported"] == 0

    def test_cooperative_members_are_families_and_each_person_counts_once(self, world):
        lead, a, b = person(world), person(world), person(world)
        coop = world.application(applicant=lead, delivered=True, is_cooperative=True)
        coop.members.set([lead, a, b])
        # `a` also has an own supported grant: still one family.
        world.application(applicant=a, delivered=True)

        result = figures(world.manager)

        assert result["enterprises_supported"] == 2
        assert result["cooperatives_supported"] == 1
        assert result["families_with_non_cash_benefits"] == 3

    def test_the_period_applies_to_the_day_of_the_last_delivery(self, world):
        early = world.application(applicant=person(world), delivered=True)
        late = world.application(applicant=person(world), delivered=True)
        Delivery.objects.filter(application=early).update(delivered_on=datetime.date(2025, 3, 10))
        Delivery.objects.filter(application=late).update(delivered_on=datetime.date(2025, 6, 1))
        # A first partial delivery long before does not date the grant.
        DeliveryLineFactory(
            delivery=DeliveryFactory(application=late, delivered_on=datetime.date(2025, 1, 5)),
            item=late.items.first(),
            actual_unit_cost=Decimal("0.00"),
        )

        assert (
            figures(world.manager, **{"from": "2025-03-01", "to": "2025-03-31"})["enterprises_supported"] == 1
        )
        assert (
            figures(world.manager, **{"from": "2025-01-01", "to": "2025-01-31"})["enterprises_supported"] == 0
        )
        assert figures(world.manager, **{"from": "2025-05-01"})["enterprises_supported"] == 1


class TestPeopleTrained:
    def test_it_counts_distinct_people_at_or_above_the_threshold(self, world):
        done = world.application(applicant=person(world), training=True)
        failed = world.application(applicant=person(world), submitted=True)
        make_training_done(failed, complete=False)
        # The same person completing two cohorts is one person trained.
        make_training_done(world.application(applicant=done.applicant, submitted=True), complete=True)

        assert figures(world.manager)["people_trained"] == 1

    @pytest.mark.parametrize(
        ("threshold", "present", "sessions", "trained"),
        [
            ("0.80", 4, 5, 1),
            ("0.80", 3, 5, 0),
            # 0.7 × 10 is 7.000000000000001 in binary floating point: 7 of 10 must pass.
            ("0.70", 7, 10, 1),
            ("0.67", 2, 3, 0),
            ("1.00", 3, 3, 1),
            ("1.00", 2, 3, 0),
            # No attendance is asked for: present at none of the sessions completes.
            ("0.00", 0, 3, 1),
        ],
    )
    def test_the_threshold_is_compared_exactly(self, world, threshold, present, sessions, trained):
        Programme.objects.filter(pk=world.programme.pk).update(training_threshold=Decimal(threshold))
        app = world.application(applicant=person(world), submitted=True)
        cohort = make_training_done(app, complete=False, sessions=sessions)
        enrolment = Enrolment.objects.get(application=app)
        enrolment.attendance.filter(session__in=cohort.sessions.all()[:present]).update(present=True)
        app.refresh_from_db()

        assert figures(world.manager)["people_trained"] == trained
        assert enrolment.is_completed() is bool(trained)

    def test_the_period_applies_to_the_cohorts_last_session(self, world):
        world.application(applicant=person(world), training=True)
        last = today() - datetime.timedelta(days=7)
        assert (
            figures(world.manager, **{"from": last.isoformat(), "to": last.isoformat()})["people_trained"]
            == 1
        )
        assert (
            figures(world.manager, to=(last - datetime.timedelta(days=1)).isoformat())["people_trained"] == 0
        )


class TestInvestment:
    def test_it_sums_every_delivery_line_in_eur_to_the_cent(self, world):
        app = world.application(approved=True)
        delivery = DeliveryFactory(application=app, delivered_on=datetime.date(2025, 4, 2))
        for amount_eur in ("0.10", "0.20", "1033.33"):
            DeliveryLineFactory(delivery=delivery, amount_eur=Decimal(amount_eur))
        cancelled = world.application(applicant=person(world), approved=True)
        DeliveryLineFactory(
            delivery=DeliveryFactory(application=cancelled, delivered_on=datetime.date(2025, 5, 2)),
            amount_eur=Decimal("99.99"),
        )
        GrantApplication.objects.filter(pk=cancelled.pk).update(state=State.CANCELLED)

        assert figures(world.manager)["investment_eur"] == Decimal("1133.62")
        assert figures(world.manager, to="2025-04-30")["investment_eur"] == Decimal("1033.63")


class TestSurvivalAndJobs:
    def test_survival_counts_twelve_month_visits_and_early_closures(self, world):
        when = datetime.date(2025, 9, 1)
        running = world.application(applicant=person(world), follow_up=True)
        visit(running, 12, visited_on=when, operating=True)
        stopped = world.application(applicant=person(world), follow_up=True)
        visit(stopped, 12, visited_on=when, operating=False, owner=0)
        closed = world.application(applicant=person(world), follow_up=True)
        visit(closed, 6, visited_on=when - datetime.timedelta(days=180), operating=False, owner=0)
        GrantApplication.objects.filter(pk=closed.pk).update(
            state=State.DISCONTINUED, closed_at=datetime.datetime(2025, 4, 1, 10, tzinfo=datetime.UTC)
        )
        young = world.application(applicant=person(world), follow_up=True)
        visit(young, 3, visited_on=when, operating=True)

        result = figures(world.manager)
        assert (result["survived_12m"], result["closed_by_12m"], result["assessed_12m"]) == (1, 2, 3)
        assert result["survival_rate_12m"] == Decimal("0.333")

    def test_survival_and_jobs_are_those_of_the_enterprises_supported_in_the_period(self, world):
        early = world.application(applicant=person(world), follow_up=True)
        Delivery.objects.filter(application=early).update(delivered_on=datetime.date(2024, 2, 1))
        visit(early, 12, visited_on=datetime.date(2025, 2, 1), operating=True, owner=1, family=2)
        late = world.application(applicant=person(world), follow_up=True)
        Delivery.objects.filter(application=late).update(delivered_on=datetime.date(2025, 2, 1))
        visit(late, 3, visited_on=datetime.date(2025, 5, 1), operating=True, owner=1)

        in_2024 = figures(world.manager, **{"from": "2024-01-01", "to": "2024-12-31"})
        assert (in_2024["survival_rate_12m"], in_2024["jobs_created"]) == (Decimal("1.000"), 3)
        in_2025 = figures(world.manager, **{"from": "2025-01-01"})
        assert (in_2025["survival_rate_12m"], in_2025["jobs_created"]) == (None, 1)

    def test_survival_is_none_before_any_outcome(self, world):
        world.application(delivered=True)
        assert figures(world.manager)["survival_rate_12m"] is None

    def test_jobs_are_those_at_each_businesss_latest_visit(self, world):
        growing = world.application(applicant=person(world), follow_up=True)
        visit(growing, 3, visited_on=datetime.date(2025, 3, 1), owner=1)
        visit(growing, 6, visited_on=datetime.date(2025, 6, 1), owner=1, family=1, employees=2)
        gone_quiet = world.application(applicant=person(world), follow_up=True)
        visit(gone_quiet, 3, visited_on=datetime.date(2025, 3, 1), owner=1, family=1)
        visit(gone_quiet, 6, visited_on=datetime.date(2025, 6, 1), operating=False, owner=0)
        world.application(applicant=person(world), delivered=True)  # no visit yet

        result = figures(world.manager)
        assert result["jobs_created"] == 4
        assert (result["jobs_owner"], result["jobs_family"], result["jobs_employees"]) == (1, 1, 2)


class TestFiltersAndScope:
    def test_filters_by_programme_country_centre_and_target_group(self, world):
        world.application(delivered=True)  # Serbia, Niš, returnee
        former = person(world, is_returnee=False, is_former_inmate=True)
        world.application(applicant=former, delivered=True)
        world.application(applicant=world.person2, programme=world.other_programme, delivered=True)

        def count(**params):
            return figures(world.manager, **params)["enterprises_supported"]

        assert count() == 3
        assert count(programme=world.programme.pk) == 2
        assert count(country="XK") == 1
        assert count(country="rs") == 2
        assert count(country=str(world.kosovo.pk)) == 1
        assert count(centre=world.other_centre.pk) == 1
        assert count(target_group="former_inmate") == 1
        assert count(target_group="returnee") == 2
        assert count(programme=world.programme.pk, target_group="returnee") == 1

    def test_each_user_sees_only_their_centres(self, world):
        world.application(delivered=True)
        world.application(applicant=world.person2, programme=world.other_programme, delivered=True)
        niš_manager = staff("programme_manager", world.centre)

        assert figures(world.manager)["enterprises_supported"] == 2
        assert figures(niš_manager)["enterprises_supported"] == 1
        assert figures(niš_manager, centre=world.other_centre.pk)["enterprises_supported"] == 0
        assert reports.budget_report(niš_manager)["results"][0]["id"] == world.programme.pk
        assert len(reports.budget_report(niš_manager)["results"]) == 1

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"programme": "abc"}, "programme"),
            ({"centre": "-3"}, "centre"),
            ({"country": "Serbia"}, "country"),
            ({"target_group": "everyone"}, "target_group"),
            ({"from": "2025-13-01"}, "from"),
            ({"from": "2025-06-01", "to": "2025-01-01"}, "from"),
            ({"by": "month"}, "by"),
            ({"programme": "99999999999999"}, "programme"),
        ],
    )
    def test_bad_filters_are_a_400_naming_the_field(self, world, api, params, field):
        response = api(world.manager).get(IMPACT, params)
        assert response.status_code == 400
        assert field in response.json()
        assert response.json()["detail"]

    def test_breakdown_by_target_group_and_centre(self, world):
        world.application(delivered=True)
        both = person(world, is_returnee=True, is_socially_disadvantaged=True)
        world.application(applicant=both, delivered=True)
        world.application(applicant=world.person2, programme=world.other_programme, delivered=True)

        by_group = {
            row["key"]: row["enterprises_supported"]
            for row in reports.impact_breakdown(world.manager, reports.NO_FILTERS, "target_group")
        }
        assert by_group == {"returnee": 3, "former_inmate": 0, "socially_disadvantaged": 1}
        by_centre = reports.impact_breakdown(world.manager, reports.NO_FILTERS, "centre")
        assert [(r["label"], r["enterprises_supported"]) for r in by_centre] == [
            (world.centre.name, 2),
            (world.other_centre.name, 1),
        ]


class TestImpactEndpoint:
    def test_reporting_roles_read_the_figures(self, world, api):
        world.application(delivered=True)
        response = api(world.manager).get(IMPACT)
        assert response.status_code == 200
        body = response.json()
        assert body["enterprises_supported"] == 1
        assert body["investment_eur"] == "1100.00"
        assert (body["withheld"], body["min_group_size"]) == ([], None)
        assert set(reports.IMPACT_FIGURES) <= set(body)

    @pytest.mark.parametrize("role", ["finance", "auditor"])
    def test_roles_without_personal_data_do_not_see_a_group_of_one(self, world, api, role):
        """One enterprise is one person: withheld, and the answer says so (docs/reports.md)."""
        world.application(delivered=True)
        body = api(getattr(world, role)).get(IMPACT).json()
        assert body["enterprises_supported"] is None and body["investment_eur"] is None
        assert "enterprises_supported" in body["withheld"] and body["min_group_size"] == 5
        assert set(reports.IMPACT_FIGURES) <= set(body)

    @pytest.mark.parametrize("role", ["applicant", "officer"])
    def test_applicants_and_field_officers_get_403(self, world, api, role):
        for path in (IMPACT, BUDGET):
            response = api(getattr(world, role)).get(path)
            assert response.status_code == 403
            assert "reports" in response.json()["detail"]

    def test_anonymous_gets_401(self, api):
        assert api().get(IMPACT).status_code == 401
        assert api().get(BUDGET).status_code == 401

    def test_the_auditor_gets_aggregates_and_no_personal_data(self, world, api):
        world.application(delivered=True)
        body = api(world.auditor).get(IMPACT, {"by": "centre"}).content.decode()
        assert world.person.last_name not in body
        assert world.person.phone not in body
        assert (
            api(world.auditor).get(f"/api/v1/applications/{GrantApplication.objects.get().pk}/").status_code
            == 403
        )

    def test_the_query_count_does_not_grow_with_the_data(self, world, api, django_assert_max_num_queries):
        for _ in range(6):
            app = world.application(applicant=person(world), follow_up=True)
            visit(app, 12, visited_on=today(), operating=True)
        client = api(world.manager)
        # (3 of them for training without a grant: people, participants, meetings; 6 for
        # its breakdowns: tests/test_training_figures.py)
        with django_assert_max_num_queries(19):
            assert client.get(IMPACT).json()["enterprises_supported"] == 6
        with django_assert_max_num_queries(16):
            assert client.get(BUDGET).json()["count"] == 2


class TestBudget:
    def row(self, user, programme):
        return next(r for r in reports.budget_report(user)["results"] if r["id"] == programme.pk)

    def test_committed_delivered_and_remaining_follow_the_definitions(self, world):
        programme = world.programme
        approved = world.application(applicant=person(world), approved=True)  # 1,100.00 committed
        DeliveryLineFactory(
            delivery=DeliveryFactory(application=approved),
            item=approved.items.first(),
            actual_unit_cost=Decimal("600.00"),
        )
        settled = world.application(applicant=person(world), delivered=True)  # delivered at 1,100.00
        DeliveryLine.objects.filter(delivery__application=settled).update(
            actual_unit_cost=Decimal("555.55"), amount=Decimal("555.55")
        )
        cancelled = world.application(applicant=person(world), approved=True)
        services.take_transition(
            application=cancelled, name="cancel", by=world.manager, comment="Moved abroad."
        )
        half = world.application(applicant=person(world), approved=True)
        DeliveryLineFactory(
            delivery=DeliveryFactory(application=half),
            item=half.items.first(),
            actual_unit_cost=Decimal("610.10"),
        )
        services.take_transition(
            application=half, name="cancel", by=world.manager, comment="Business closed."
        )

        row = self.row(world.manager, programme)
        # approved: its commitment; settled: 2 × 555.55; cancelled: nothing;
        # cancelled after a partial delivery: what was spent.
        assert row["committed"] == Decimal("1100.00") + Decimal("1111.10") + Decimal("610.10")
        assert row["delivered"] == Decimal("600.00") + Decimal("1111.10") + Decimal("610.10")
        assert row["budget"] == Decimal("100000.00")
        assert row["remaining"] == Decimal("100000.00") - Decimal("2821.20")
        # The approval guard reads the same figure.
        assert programme.remaining_budget() == row["remaining"]
        assert Commitment.objects.filter(application=cancelled, status="released").count() == 1

    def test_it_groups_by_country_and_donor_per_currency(self, world):
        dinar = ProgrammeFactory(
            country=world.serbia, currency="RSD", budget=Decimal("5000000.00"), donor="Donor B"
        )
        world.application(approved=True)
        world.application(
            applicant=person(world), programme=dinar, approved=True, items=[("Oven", 1, "129000.00")]
        )
        world.application(applicant=world.person2, programme=world.other_programme, approved=True)

        report = reports.budget_report(world.manager)
        by_country = {(r["country__code"], r["currency"]): r["committed"] for r in report["by_country"]}
        assert by_country == {
            ("RS", "EUR"): Decimal("1100.00"),
            ("RS", "RSD"): Decimal("129000.00"),
            ("XK", "EUR"): Decimal("1100.00"),
        }
        by_donor = {(r["donor"], r["currency"]): (r["programmes"], r["budget"]) for r in report["by_donor"]}
        assert by_donor == {
            ("Donor Foundation", "EUR"): (2, Decimal("200000.00")),
            ("Donor B", "RSD"): (1, Decimal("5000000.00")),
        }

    def test_the_country_and_donor_rows_add_up_the_programme_rows_in_six_queries(
        self, world, django_assert_num_queries
    ):
        dinar = ProgrammeFactory(country=world.serbia, currency="RSD", donor="Donor Foundation")
        world.application(delivered=True)
        world.application(applicant=person(world), approved=True)
        world.application(applicant=world.person2, programme=world.other_programme, approved=True)
        # Read once per request, before the report: permissions and centre ids.
        world.manager.has_perm("grants.view_reports")
        centre_ids(world.manager)
        with django_assert_num_queries(6):
            report = reports.budget_report(world.manager)
        amounts = ("budget", "committed", "delivered", "delivered_eur", "remaining")
        for level, group in (("by_country", ("country", "currency")), ("by_donor", ("donor", "currency"))):
            for total in report[level]:
                rows = [r for r in report["results"] if all(r[g] == total[g] for g in group)]
                assert total["programmes"] == len(rows)
                for amount in amounts:
                    assert total[amount] == sum((r[amount] for r in rows), Decimal("0")), (level, amount)
        assert {r["currency"] for r in report["by_donor"]} == {"EUR", "RSD"}
        assert dinar.pk in {r["id"] for r in report["results"]}

    def test_the_endpoint_keeps_api_md_fields_with_money_as_strings(self, world, api):
        world.application(approved=True)
        body = api(world.finance).get(BUDGET, {"country": "RS"}).json()
        assert body["count"] == 1
        row = body["results"][0]
        assert {
            k: row[k] for k in ("programme", "currency", "budget", "committed", "delivered", "remaining")
        } == {
            "programme": world.programme.pk,
            "currency": "EUR",
            "budget": "100000.00",
            "committed": "1100.00",
            "delivered": "0.00",
            "remaining": "98900.00",
        }
        assert body["by_country"][0]["country"] == "RS"
        assert body["by_donor"][0]["donor"] == "Donor Foundation"

    def test_filters_by_donor_and_currency(self, world, api):
        ProgrammeFactory(country=world.serbia, currency="RSD", donor="Donor B")
        client = api(world.finance)
        assert [r["currency"] for r in client.get(BUDGET, {"currency": "RSD"}).json()["results"]] == ["RSD"]
        assert client.get(BUDGET, {"donor": "Donor B"}).json()["count"] == 1
        assert client.get(BUDGET, {"currency": "USD"}).status_code == 400


# ---- acceptance: the demo data ------------------------------------------------------


def independent_figures(applications, *, target_group=None, since=None):
    """The figures of docs/reports.md computed here, row by row in Python, without the
    report code: the acceptance check. `since` is the first day of the period."""
    supported_states = {"equipment_delivered", "follow_up", "completed", "discontinued"}
    since = since or datetime.date.min
    apps = [a for a in applications if target_group is None or target_group in a.applicant.target_groups]
    # An institution's grant is counted apart (institutions_supported), in no figure of
    # people; its equipment is still money invested.
    people = [a for a in apps if a.institution_id is None]
    supported = [
        a
        for a in people
        if a.state in supported_states and max(d.delivered_on for d in a.deliveries.all()) >= since
    ]
    families = {a.applicant_id for a in supported}
    for a in supported:
        if a.is_cooperative:
            families |= {m.pk for m in a.members.all()}
    trained = set()
    for a in people:
        for enrolment in a.enrolments.all():
            sessions = enrolment.cohort.sessions.count()
            present = enrolment.attendance.filter(present=True).count()
            threshold = Fraction(str(a.programme.training_threshold))
            last_session = max((s.date for s in enrolment.cohort.sessions.all()), default=None)
            if sessions and Fraction(present, sessions) >= threshold and last_session >= since:
                trained.add(a.applicant_id)
    investment = sum(
        (
            line.amount_eur
            for a in apps
            for d in a.deliveries.all()
            if d.delivered_on >= since
            for line in d.lines.all()
        ),
        Decimal("0"),
    )
    survived = closed = jobs = 0
    for a in supported:
        recorded = [v for v in a.visits.all() if v.visited_on is not None]
        twelve = [v for v in recorded if v.months == 12]
        if twelve:
            survived += twelve[0].operating is True
            closed += twelve[0].operating is False
        elif a.state == "discontinued":
            closed += 1
        if recorded:
            latest = max(recorded, key=lambda v: (v.visited_on, v.months, v.pk))
            jobs += latest.jobs_owner + latest.jobs_family + latest.jobs_employees
    return {
        "enterprises_supported": len(supported),
        "cooperatives_supported": sum(1 for a in supported if a.is_cooperative),
        "families_with_non_cash_benefits": len(families),
        "people_trained": len(trained),
        "investment_eur": investment.quantize(Decimal("0.01")),
        "survived_12m": survived,
        "closed_by_12m": closed,
        "jobs_created": jobs,
    }


def independent_budget(programme):
    apps = list(programme.applications.all())
    committed = Decimal("0")
    delivered = Decimal("0")
    for a in apps:
        cost = sum((line.amount for d in a.deliveries.all() for line in d.lines.all()), Decimal("0"))
        delivered += cost
        if a.state in {"equipment_delivered", "follow_up", "completed", "discontinued", "cancelled"}:
            committed += cost
        else:
            committed += sum((c.amount for c in a.commitments.all() if c.status == "active"), Decimal("0"))
    return programme.budget, committed, delivered, programme.budget - committed


class TestSeededData:
    @pytest.fixture
    def seeded(self, db, django_user_model):
        assert demo.seed() is True
        return django_user_model.objects.get(username="auditor")

    def test_the_figures_and_the_budget_equal_sums_computed_from_the_rows(self, seeded, api):
        applications = list(GrantApplication.objects.select_related("applicant", "programme"))
        expected = independent_figures(applications)
        assert expected["enterprises_supported"] > 0 and expected["closed_by_12m"] > 0

        result = reports.impact_figures(seeded)
        assert {k: result[k] for k in expected} == expected
        known = expected["survived_12m"] + expected["closed_by_12m"]
        assert result["survival_rate_12m"] == (Decimal(expected["survived_12m"]) / known).quantize(
            Decimal("0.001"), rounding=ROUND_HALF_UP
        )

        body = api(seeded).get(IMPACT).json()
        assert body["investment_eur"] == str(expected["investment_eur"])
        assert body["jobs_created"] == expected["jobs_created"]

        for group in TargetGroup.values:
            expected = independent_figures(applications, target_group=group)
            result = reports.impact_figures(seeded, ReportFilters(target_group=group))
            assert {k: result[k] for k in expected} == expected, group

        since = today() - datetime.timedelta(days=200)
        expected = independent_figures(applications, since=since)
        assert 0 < expected["enterprises_supported"] < len([a for a in applications if a.delivered_at])
        result = reports.impact_figures(seeded, ReportFilters(date_from=since))
        assert {k: result[k] for k in expected} == expected

        quarters = [(start, end) for _label, start, end in quarters_of(today())]
        per_quarter = reports.impact_by_period(seeded, NO_FILTERS, quarters)
        assert per_quarter == TestPerPeriod.each_period(seeded, NO_FILTERS, quarters)
        assert sum(f["enterprises_supported"] for f in per_quarter.values()) > 0

        # The budget, from the same seeded rows (one seeding: it takes seconds).
        body = api(seeded).get(BUDGET).json()
        assert body["count"] == Programme.objects.count() == 2
        for row in body["results"]:
            programme = Programme.objects.get(pk=row["programme"])
            budget, committed, delivered, remaining = independent_budget(programme)
            assert (row["budget"], row["committed"], row["delivered"], row["remaining"]) == (
                f"{budget:.2f}",
                f"{committed:.2f}",
                f"{delivered:.2f}",
                f"{remaining:.2f}",
            )
            assert programme.remaining_budget() == remaining


class TestPerPeriod:
    """`impact_by_period` (the dashboard's quarters) says for each period what
    `impact_figures` says with that period as the filter, in six queries."""

    PERIODS = [
        (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)),
        (datetime.date(2025, 4, 1), datetime.date(2025, 6, 30)),
        (datetime.date(2025, 7, 1), datetime.date(2025, 8, 15)),
    ]

    @staticmethod
    def each_period(user, filters, periods):
        return {
            (start, end): reports.impact_figures(
                user, dataclasses.replace(filters, date_from=start, date_to=end)
            )
            for start, end in periods
        }

    def test_each_figure_is_dated_as_its_period_filter_dates_it(self, world, django_assert_num_queries):
        lead, a, b = person(world), person(world), person(world)
        coop = world.application(applicant=lead, follow_up=True, is_cooperative=True)
        coop.members.set([lead, a, b])
        Delivery.objects.filter(application=coop).update(delivered_on=datetime.date(2025, 2, 10))
        visit(coop, 12, visited_on=datetime.date(2026, 2, 10), operating=True, owner=1, family=2)
        own = world.application(applicant=a, follow_up=True)
        Delivery.objects.filter(application=own).update(delivered_on=datetime.date(2025, 5, 1))
        visit(own, 3, visited_on=datetime.date(2025, 8, 1), owner=1, employees=3)
        # A partial delivery in the first quarter, the last one in the second: the
        # grant is the second's, its first line's money the first's.
        split = world.application(applicant=person(world), delivered=True)
        Delivery.objects.filter(application=split).update(delivered_on=datetime.date(2025, 6, 30))
        DeliveryLineFactory(
            delivery=DeliveryFactory(application=split, delivered_on=datetime.date(2025, 1, 1)),
            item=split.items.first(),
            amount_eur=Decimal("10.05"),
        )
        # Its last delivery after the periods: not in any of them.
        after = world.application(applicant=person(world), delivered=True)
        Delivery.objects.filter(application=after).update(delivered_on=datetime.date(2025, 8, 16))
        closed = world.application(applicant=person(world), follow_up=True)
        Delivery.objects.filter(application=closed).update(delivered_on=datetime.date(2025, 8, 15))
        GrantApplication.objects.filter(pk=closed.pk).update(state=State.DISCONTINUED)
        world.application(applicant=person(world), training=True)

        expected = self.each_period(world.manager, reports.NO_FILTERS, self.PERIODS)
        with django_assert_num_queries(6):
            result = reports.impact_by_period(world.manager, reports.NO_FILTERS, self.PERIODS)
        assert result == expected
        first, second, third = (result[p] for p in self.PERIODS)
        assert (first["enterprises_supported"], first["cooperatives_supported"]) == (1, 1)
        assert first["families_with_non_cash_benefits"] == 3
        assert (first["survival_rate_12m"], first["jobs_created"]) == (Decimal("1.000"), 3)
        assert (second["enterprises_supported"], second["families_with_non_cash_benefits"]) == (2, 2)
        assert second["jobs_created"] == 4
        assert first["investment_eur"] > Decimal("10.05") and second["investment_eur"] > 0
        assert (third["enterprises_supported"], third["closed_by_12m"]) == (1, 1)

        filters = ReportFilters(target_group="returnee", centre=world.centre.pk)
        assert reports.impact_by_period(world.manager, filters, self.PERIODS) == self.each_period(
            world.manager, filters, self.PERIODS
        )

    def test_people_trained_by_the_cohorts_last_session(self, world):
        world.application(applicant=person(world), training=True)
        last = today() - datetime.timedelta(days=7)
        periods = [
            (last - datetime.timedelta(days=30), last - datetime.timedelta(days=1)),
            (last, last + datetime.timedelta(days=1)),
        ]
        result = reports.impact_by_period(world.manager, reports.NO_FILTERS, periods)
        assert [result[p]["people_trained"] for p in periods] == [0, 1]
        assert result == self.each_period(world.manager, reports.NO_FILTERS, periods)


def more_centres_and_programmes(world, count):
    """`count` more centres of the manager, each with a programme and a grant in
    follow-up visited at 12 months."""
    for _ in range(count):
        centre = CentreFactory(country=world.serbia)
        StaffAssignment.objects.create(user=world.manager, centre=centre)
        assign_perm("applicants.access_centre", world.manager, centre)
        app = world.application(
            applicant=person(world, centre), programme=ProgrammeFactory(country=world.serbia), follow_up=True
        )
        visit(app, 12, visited_on=today(), operating=True)


@pytest.mark.parametrize("by", ["programme", "centre", "country", "target_group"])
def test_the_breakdowns_query_count_does_not_grow_with_the_groups(
    world, api, by, django_assert_max_num_queries
):
    more_centres_and_programmes(world, 2)
    client = api(world.manager)
    with CaptureQueriesContext(connection) as few:
        client.get(IMPACT, {"by": by})
    more_centres_and_programmes(world, 4)
    forget_permissions(world.manager)
    with django_assert_max_num_queries(len(few)):
        body = client.get(IMPACT, {"by": by}).json()
    assert body["enterprises_supported"] == 6
    if by != "target_group":
        assert sum(row["enterprises_supported"] for row in body["breakdown"]) == 6
    if by in ("programme", "centre"):
        assert len(body["breakdown"]) == 6
