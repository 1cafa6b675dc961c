"""Follow-up after delivery: visits scheduled at the programme's months (month ends
clamped), due and overdue lists, recording visits, and the outcome indicators."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from assessments.models import MonitoringVisit
from assessments.selectors import due_visits, outcome_indicators, overdue_visits, upcoming_visits
from assessments.services import record_visit, visit_dates
from core.errors import Conflict, NotAllowed, NotVisible, RuleNotMet, ServiceError
from grants import services as grant_services
from grants.models import AuditEvent, GrantApplication

from .factories import ApplicantFactory, ApplicationFactory, MonitoringVisitFactory, discontinue

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def days(n):
    return TODAY + datetime.timedelta(days=n)


def take(app, name, by, comment=""):
    return grant_services.take_transition(application=app, name=name, by=by, comment=comment)


def visit(world, app, months, **values):
    values.setdefault("visited_on", TODAY)
    values.setdefault("operating", True)
    values.setdefault("equipment_in_use", True)
    return record_visit(by=world.officer, visit=app.visits.get(months=months), **values)


class TestSchedule:
    @pytest.mark.parametrize(
        ("delivered", "months", "due"),
        [
            (datetime.date(2025, 8, 31), [3, 6, 12], ["2025-11-30", "2026-02-28", "2026-08-31"]),
            (datetime.date(2023, 8, 31), [6], ["2024-02-29"]),  # leap year
            (datetime.date(2025, 11, 30), [3], ["2026-02-28"]),
            (datetime.date(2025, 1, 31), [1, 13], ["2025-02-28", "2026-02-28"]),
            (datetime.date(2025, 10, 15), [3], ["2026-01-15"]),  # across the year
        ],
    )
    def test_due_dates_clamp_to_the_month_end(self, delivered, months, due):
        assert [d.isoformat() for _m, d in visit_dates(delivered, months)] == due

    def test_start_follow_up_schedules_3_6_12_months_after_the_last_delivery(self, world):
        delivered = datetime.date(2025, 8, 31)
        app = world.application(delivered=True, state_facts__delivered_on=delivered)
        app = take(app, "start_follow_up", world.officer)
        assert app.state == "follow_up"
        assert list(app.visits.values_list("months", "due_on")) == [
            (3, datetime.date(2025, 11, 30)),
            (6, datetime.date(2026, 2, 28)),
            (12, datetime.date(2026, 8, 31)),
        ]
        assert AuditEvent.objects.filter(application=app, action="start_follow_up").exists()

    def test_the_programme_chooses_other_months(self, world):
        world.programme.visit_months = [18, 6]
        world.programme.save()
        app = take(
            world.application(delivered=True, state_facts__delivered_on=datetime.date(2025, 3, 31)),
            "start_follow_up",
            world.officer,
        )
        assert list(app.visits.values_list("months", "due_on")) == [
            (6, datetime.date(2025, 9, 30)),
            (18, datetime.date(2026, 9, 30)),
        ]

    def test_nonsense_months_are_refused_and_the_state_stays(self, world):
        world.programme.visit_months = [0, 6]
        world.programme.save()
        app = world.application(delivered=True)
        with pytest.raises(ServiceError):
            take(app, "start_follow_up", world.officer)
        app.refresh_from_db()
        assert (app.state, app.visits.count()) == ("equipment_delivered", 0)


class TestLists:
    def test_due_upcoming_and_overdue_lists_by_centre(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-95))
        three, six, twelve = app.visits.order_by("months")
        MonitoringVisit.objects.filter(pk=six.pk).update(due_on=days(5))
        other = ApplicationFactory(
            applicant=ApplicantFactory(centre=world.other_centre),
            programme=world.other_programme,
            follow_up=True,
        )
        MonitoringVisit.objects.filter(application=other).update(due_on=days(-1))
        completed = world.application(completed=True)
        MonitoringVisit.objects.filter(application=completed).update(due_on=days(-1), visited_on=None)

        assert three.due_on < TODAY
        assert list(overdue_visits(world.officer)) == [three]
        assert list(upcoming_visits(world.officer)) == [six]
        assert list(due_visits(world.officer)) == [three, six]
        assert list(due_visits(world.officer, within_days=400)) == [three, six, twelve]
        assert list(overdue_visits(world.officer2)) == list(other.visits.order_by("due_on", "id"))
        assert list(due_visits(world.applicant2)) == []
        assert list(due_visits(world.auditor)) == []

        visit(world, app, 3)
        assert list(overdue_visits(world.officer)) == []

    def test_the_lists_take_one_query_whatever_their_length(self, world, django_assert_max_num_queries):
        for _n in range(4):
            world.application(
                follow_up=True,
                state_facts__delivered_on=days(-200),
                applicant=ApplicantFactory(centre=world.centre),
            )
        with django_assert_max_num_queries(3):
            rows = [
                (v.application.business_name, v.application.applicant.last_name)
                for v in due_visits(world.officer)
            ]
        assert len(rows) == 8


class TestRecordVisit:
    def test_it_records_what_the_officer_saw(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-95))
        recorded = visit(
            world,
            app,
            3,
            visited_on=days(-1),
            monthly_revenue="640.50",
            jobs={"owner": 1, "family": 2, "employees": 1},
            notes="Two sewing machines in use; orders from the school.",
        )
        recorded.refresh_from_db()
        assert (recorded.visited_on, recorded.operating, recorded.equipment_in_use) == (days(-1), True, True)
        assert (recorded.monthly_revenue, recorded.jobs, recorded.jobs_family) == (Decimal("640.50"), 4, 2)
        assert recorded.recorded_by == world.officer
        event = AuditEvent.objects.get(application=app, action="visit_recorded")
        assert event.data == {
            "visit": recorded.pk,
            "months": 3,
            "operating": True,
            "before": None,
            "after": {
                "visited_on": days(-1).isoformat(),
                "operating": True,
                "equipment_in_use": True,
                "monthly_revenue": "640.50",
                "jobs_owner": 1,
                "jobs_family": 2,
                "jobs_employees": 1,
            },
            "text_changed": ["notes"],
        }
        assert "sewing" not in event.canonical()

    def test_a_visit_may_come_before_its_due_date_but_never_in_the_future(self, world):
        # Inside its window (tests/test_visits_window.py): due in about 20 days.
        app = world.application(follow_up=True, state_facts__delivered_on=days(-70))
        assert visit(world, app, 3).visited_on == TODAY
        with pytest.raises(ServiceError) as excinfo:
            visit(world, app, 6, visited_on=days(1))
        assert "visited_on" in excinfo.value.details
        with pytest.raises(ServiceError) as excinfo:
            visit(world, app, 6, visited_on=days(-71))
        assert "visited_on" in excinfo.value.details  # before the delivery
        assert app.visits.get(months=6).visited_on is None

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"monthly_revenue": "-5"}, "monthly_revenue"),
            ({"monthly_revenue": "12.345"}, "monthly_revenue"),
            ({"jobs": {"owner": -1}}, "jobs"),
            ({"jobs": {"owner": "many"}}, "jobs"),
        ],
    )
    def test_bad_figures_are_refused(self, world, values, field):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-95))
        with pytest.raises(ServiceError) as excinfo:
            visit(world, app, 3, **values)
        assert field in excinfo.value.details
        assert app.visits.get(months=3).visited_on is None

    def test_only_officers_of_the_centre_record_and_only_during_follow_up(self, world):
        app = world.application(follow_up=True)
        target = app.visits.get(months=3)
        for user, error in (
            (world.officer2, NotVisible),
            (world.manager, NotAllowed),
            (world.applicant, NotAllowed),
        ):
            with pytest.raises(error):
                record_visit(by=user, visit=target, visited_on=TODAY, operating=True, equipment_in_use=True)
        GrantApplication.objects.filter(pk=app.pk).update(state="completed")
        with pytest.raises(Conflict):
            visit(world, app, 3)
        assert not AuditEvent.objects.filter(action="visit_recorded").exists()

    def test_complete_after_the_last_visit_and_discontinue_with_a_reason(self, world):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-370))
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "complete", world.officer)
        assert [c for c, _m in excinfo.value.rules] == ["last_visit_done"]
        for months in (3, 6, 12):
            visit(world, app, months, monthly_revenue="500")
        assert take(app, "complete", world.officer).state == "completed"

        closing = world.application(follow_up=True, applicant=ApplicantFactory(centre=world.centre))
        with pytest.raises(RuleNotMet):
            take(closing, "discontinue", world.officer)
        closing = discontinue(closing, world.officer, "The workshop closed; the owner emigrated.")
        assert (closing.state, closing.closing_reason) == (
            "discontinued",
            "The workshop closed; the owner emigrated.",
        )

    def test_visits_left_unmade_when_a_grant_ends_are_no_longer_owed(self, world):
        closing = world.application(follow_up=True, state_facts__delivered_on=days(-200))
        visit(world, closing, 3, operating=False)
        discontinue(closing, world.officer, "The workshop closed.")

        three, six, twelve = closing.visits.order_by("months")
        assert three.closed_on is None and three.visited_on is not None  # made: kept as it was
        assert six.closed_on == twelve.closed_on == TODAY  # kept on record, no longer owed
        assert list(due_visits(world.officer, within_days=400)) == []
        assert list(overdue_visits(world.officer)) == []

        skipped = world.application(follow_up=True, state_facts__delivered_on=days(-370))
        visit(world, skipped, 12, monthly_revenue="500")  # the 3- and 6-month visits never made
        take(skipped, "complete", world.officer)
        assert [v.closed_on for v in skipped.visits.order_by("months")] == [TODAY, TODAY, None]
        assert list(due_visits(world.officer, within_days=400)) == []

    def test_the_api_records_a_visit_and_refuses_a_future_date(self, world, api):
        app = world.application(follow_up=True, state_facts__delivered_on=days(-95))
        target = app.visits.get(months=3)
        client = api(world.officer)
        body = {"visited_on": days(1).isoformat(), "operating": True, "equipment_in_use": True, "jobs": 2}
        response = client.post(f"/api/v1/visits/{target.pk}/record/", body, format="json")
        assert response.status_code == 400
        assert "future" in response.json()["detail"]
        body["visited_on"] = TODAY.isoformat()
        response = client.post(f"/api/v1/visits/{target.pk}/record/", body, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["jobs"] == 2
        assert (
            api(world.officer2).post(f"/api/v1/visits/{target.pk}/record/", body, format="json").status_code
            == 404
        )


class TestOutcomeIndicators:
    @pytest.fixture
    def grants(self, world):
        """A survivor with growing revenue, a closed business, one awaiting its 12-month
        visit, one young business, and one still being approved."""

        def new(**kwargs):
            return world.application(applicant=ApplicantFactory(centre=world.centre), **kwargs)

        survivor = new(follow_up=True, state_facts__delivered_on=days(-380))
        visit(world, survivor, 3, visited_on=days(-290), monthly_revenue="400", jobs={"owner": 1})
        visit(
            world, survivor, 6, visited_on=days(-200), monthly_revenue="500", jobs={"owner": 1, "family": 1}
        )
        visit(
            world,
            survivor,
            12,
            visited_on=days(-10),
            monthly_revenue="600",
            jobs={"owner": 1, "family": 1, "employees": 2},
        )
        take(survivor, "complete", world.officer)

        closed = new(follow_up=True, state_facts__delivered_on=days(-200))
        visit(world, closed, 3, visited_on=days(-110), monthly_revenue="300", jobs={"owner": 1})
        visit(
            world,
            closed,
            6,
            visited_on=days(-20),
            operating=False,
            equipment_in_use=False,
            monthly_revenue="0",
        )
        discontinue(closed, world.officer, "Closed.")

        awaiting = new(follow_up=True, state_facts__delivered_on=days(-400))
        visit(
            world,
            awaiting,
            3,
            visited_on=days(-300),
            monthly_revenue="1000",
            jobs={"owner": 1, "employees": 1},
        )
        visit(
            world,
            awaiting,
            6,
            visited_on=days(-210),
            monthly_revenue="800",
            jobs={"owner": 1, "employees": 1},
        )

        young = new(follow_up=True, state_facts__delivered_on=days(-95))
        visit(world, young, 3, visited_on=days(-2), monthly_revenue="250", jobs={"owner": 1})

        new(training=True)
        return {"survivor": survivor, "closed": closed, "awaiting": awaiting, "young": young}

    def test_survival_jobs_and_revenue_change(self, world, grants, django_assert_max_num_queries):
        with django_assert_max_num_queries(3):
            figures = outcome_indicators(GrantApplication.objects.all())
        assert figures == {
            "survived_12m": 1,
            "closed_by_12m": 1,
            "awaiting_12m_visit": 1,
            "survival_rate_12m": Decimal("0.500"),
            "businesses_visited": 4,
            # latest visits: survivor 1+1+2, closed 0, awaiting 1+1, young 1
            "jobs_created": 7,
            "jobs_owner": 3,
            "jobs_family": 1,
            "jobs_employees": 3,
            # survivor 400 → 600 (+50 %), closed 300 → 0 (−100 %), awaiting 1000 → 800 (−20 %)
            "revenue_changes": 3,
            "median_revenue_change_pct": Decimal("-20.0"),
            "median_revenue_change": {"EUR": Decimal("-200.00")},
        }

    def test_they_follow_the_queryset_given(self, world, grants):
        survivor_only = GrantApplication.objects.filter(pk=grants["survivor"].pk)
        figures = outcome_indicators(survivor_only)
        assert (
            figures["survival_rate_12m"],
            figures["jobs_created"],
            figures["median_revenue_change_pct"],
        ) == (
            Decimal("1.000"),
            4,
            Decimal("50.0"),
        )
        assert outcome_indicators(GrantApplication.objects.filter(state="draft"))["survival_rate_12m"] is None

    def test_a_visit_beyond_twelve_months_counts_jobs_not_survival(self, world):
        MonitoringVisitFactory(
            application=world.application(follow_up=True), visited_on=TODAY, operating=True, jobs_owner=1
        )
        figures = outcome_indicators(GrantApplication.objects.all())
        assert figures["jobs_created"] == 1
        assert figures["survival_rate_12m"] is None


def test_a_visits_jobs_are_the_owners_the_familys_and_the_employees():
    assert MonitoringVisit(jobs_owner=1, jobs_family=2, jobs_employees=4).jobs == 7
