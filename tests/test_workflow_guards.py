"""Each workflow guard at its boundary: the rule just met and just missed, and the
look-alike record that must not count (a withdrawn consent, another kind of document, an
inactive enrolment). tests/test_workflow.py has each transition's whole effect; these
pin what a guard reads, so that a guard that stops filtering is noticed (README
"Mutation testing")."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from applicants.models import ConsentRecord
from core.errors import RuleNotMet
from grants import services

from .factories import DocumentFactory, make_full_delivery, make_training_done

pytestmark = pytest.mark.django_db


def take(application, name, by, comment=""):
    return services.take_transition(application=application, name=name, by=by, comment=comment)


def refused(application, name, by):
    """The codes of the rules the step names when it refuses; the state is unchanged."""
    state = application.state
    with pytest.raises(RuleNotMet) as excinfo:
        take(application, name, by)
    application.refresh_from_db()
    assert application.state == state
    return [code for code, _message in excinfo.value.rules]


class TestConsent:
    def test_a_withdrawn_consent_is_no_consent(self, world):
        ConsentRecord.objects.filter(applicant=world.person).update(withdrawn_at=timezone.now())
        assert refused(world.application(), "submit", world.applicant) == ["consent_given"]

    def test_consent_given_again_after_a_withdrawal_counts(self, world):
        ConsentRecord.objects.filter(applicant=world.person).update(withdrawn_at=timezone.now())
        ConsentRecord.objects.create(applicant=world.person, wording="I agree.", version="2", language="en")
        assert take(world.application(), "submit", world.applicant).state == "submitted"


class TestRequiredFields:
    @pytest.mark.parametrize(
        "field, value",
        [
            ("business_name", "   "),
            ("sector", ""),
            ("activity", " \n "),
            ("market", "  "),
            ("expected_monthly_revenue", None),
            ("expected_monthly_costs", None),
        ],
    )
    def test_each_field_is_required_on_its_own(self, world, field, value):
        app = world.application(**{field: value})
        assert refused(app, "submit", world.applicant) == ["required_fields"]

    def test_zero_revenue_and_costs_are_answers_not_blanks(self, world):
        app = world.application(
            expected_monthly_revenue=Decimal("0.00"), expected_monthly_costs=Decimal("0.00")
        )
        assert take(app, "submit", world.applicant).state == "submitted"


class TestCallWindow:
    @pytest.mark.parametrize("opens, closes", [(0, 10), (-10, 0)])
    def test_the_first_and_the_last_day_of_the_call_are_open(self, world, opens, closes):
        today = timezone.localdate()
        world.programme.calls.update(
            opens=today + datetime.timedelta(days=opens), closes=today + datetime.timedelta(days=closes)
        )
        assert take(world.application(), "submit", world.applicant).state == "submitted"

    def test_the_day_before_the_call_opens_is_closed(self, world):
        today = timezone.localdate()
        world.programme.calls.update(
            opens=today + datetime.timedelta(days=1), closes=today + datetime.timedelta(days=30)
        )
        assert refused(world.application(), "submit", world.applicant) == ["call_open"]


class TestEnrolment:
    def test_an_inactive_enrolment_does_not_admit_to_training(self, world):
        app = world.application(submitted=True)
        make_training_done(app).enrolments.update(active=False)
        assert refused(app, "admit_to_training", world.officer) == ["enrolled"]

    def test_training_completed_in_a_cohort_left_since_does_not_count(self, world):
        app = world.application(ready=True)
        app.enrolments.update(active=False)
        make_training_done(app, complete=False)
        assert refused(app, "approve", world.manager) == ["training_completed"]


class TestHandover:
    @pytest.mark.parametrize("kind", ["business_plan", "supplier_quote", "photo", "other"])
    def test_another_kind_of_document_is_not_the_signed_protocol(self, world, kind):
        app = world.application(approved=True)
        make_full_delivery(app, delivered_on=datetime.date.today(), protocol=False)
        DocumentFactory(application=app, kind=kind)
        assert refused(app, "record_delivery", world.finance) == ["handover_protocol"]

    def test_another_grants_protocol_is_not_this_ones(self, world):
        app = world.application(approved=True)
        make_full_delivery(app, delivered_on=datetime.date.today(), protocol=False)
        DocumentFactory(application=world.application(approved=True), kind="handover_protocol")
        assert refused(app, "record_delivery", world.finance) == ["handover_protocol"]


class TestFollowUp:
    def test_the_twelve_month_visit_decides_not_an_earlier_one(self, world):
        app = world.application(follow_up=True)
        app.visits.filter(months__lt=12).update(visited_on=datetime.date.today())
        assert refused(app, "complete", world.officer) == ["last_visit_done"]
        app.visits.filter(months=12).update(visited_on=datetime.date.today())
        assert take(app, "complete", world.officer).state == "completed"

    def test_without_any_visit_scheduled_it_cannot_complete(self, world):
        app = world.application(follow_up=True)
        app.visits.all().delete()
        assert refused(app, "complete", world.officer) == ["last_visit_done"]


def test_a_page_reads_what_the_rules_read_once(world, django_assert_num_queries):
    """An instance that only shows the application remembers the current assessment the
    page and the approve guard both read; a fresh instance reads it again."""
    app = world.application(ready=True)
    app.remember_reads()
    first = app.current_assessment()
    with django_assert_num_queries(0):
        assert app.current_assessment() is first
    assert type(app).objects.get(pk=app.pk).current_assessment() == first
