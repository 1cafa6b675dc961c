"""Every transition of docs/design.md's table: success with its audit row and notification,
and each guard's refusal naming its rule."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from applicants.models import ConsentRecord
from core.errors import Conflict, NotAllowed, NotVisible, RuleNotMet, ServiceError
from grants import services
from grants.models import AuditEvent, Commitment, GrantApplication

from .factories import (
    ApplicantFactory,
    discontinue,
    make_assessment,
    make_full_delivery,
    make_training_done,
    upload_handover_protocol,
)

pytestmark = pytest.mark.django_db


def take(application, name, by, comment=""):
    return services.take_transition(application=application, name=name, by=by, comment=comment)


def rule_codes(excinfo):
    return [code for code, _message in excinfo.value.rules]


def last_event(application):
    return AuditEvent.objects.filter(application=application).order_by("-id").first()


class TestSubmit:
    def test_it_submits_a_complete_draft_and_records_who(self, world, django_capture_on_commit_callbacks):
        app = world.application()
        with django_capture_on_commit_callbacks(execute=True):
            app = take(app, "submit", world.applicant)
        assert app.state == "submitted"
        assert app.submitted_at is not None
        event = last_event(app)
        assert (event.action, event.from_state, event.to_state, event.actor) == (
            "submit",
            "draft",
            "submitted",
            world.applicant,
        )
        assert event.on_behalf_of is None
        assert len(mail.outbox) == 1
        assert app.business_name in mail.outbox[0].subject

    def test_an_officer_submits_on_behalf_and_the_history_says_so(self, world):
        app = take(world.application(), "submit", world.officer)
        event = last_event(app)
        assert event.actor == world.officer
        assert event.on_behalf_of == world.person

    def test_it_refuses_without_items(self, world):
        app = world.application(items=[])
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "submit", world.applicant)
        assert rule_codes(excinfo) == ["has_items"]
        assert "equipment item" in str(excinfo.value)
        app.refresh_from_db()
        assert app.state == "draft"

    def test_it_refuses_above_the_ceiling(self, world):
        app = world.application(items=[("Tractor", 1, "25000.00")])
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "submit", world.applicant)
        assert rule_codes(excinfo) == ["within_ceiling"]

    def test_it_refuses_without_consent(self, world):
        app = world.application()
        ConsentRecord.objects.filter(applicant=world.person).delete()
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "submit", world.applicant)
        assert rule_codes(excinfo) == ["consent_given"]

    def test_it_refuses_an_ineligible_target_group(self, world):
        world.programme.target_groups = ["former_inmate"]
        world.programme.save()
        with pytest.raises(RuleNotMet) as excinfo:
            take(world.application(), "submit", world.applicant)
        assert rule_codes(excinfo) == ["target_group_eligible"]

    def test_it_refuses_when_the_call_is_closed(self, world):
        app = world.application()
        closes = timezone.localdate() - datetime.timedelta(days=1)
        world.programme.calls.update(closes=closes, opens=closes - datetime.timedelta(days=30))
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "submit", world.applicant)
        assert rule_codes(excinfo) == ["call_open"]

    def test_it_names_every_missing_field_rule_at_once(self, world):
        app = world.application(market="", items=[])
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "submit", world.applicant)
        assert rule_codes(excinfo) == ["required_fields", "has_items"]

    def test_another_applicant_cannot_see_it(self, world):
        with pytest.raises(NotVisible):
            take(world.application(), "submit", world.applicant2)

    def test_an_officer_of_another_centre_cannot_see_it(self, world):
        with pytest.raises(NotVisible):
            take(world.application(), "submit", world.officer2)


class TestReturnAdmitReject:
    def test_return_for_changes_needs_a_comment(self, world):
        app = world.application(submitted=True)
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "return_for_changes", world.officer)
        assert rule_codes(excinfo) == ["comment_required"]
        app = take(app, "return_for_changes", world.officer, "Add a supplier quote.")
        assert app.state == "draft"
        assert last_event(app).comment == "Add a supplier quote."

    def test_the_applicant_cannot_return_their_own(self, world):
        with pytest.raises(NotAllowed):
            take(world.application(submitted=True), "return_for_changes", world.applicant)

    def test_admit_needs_an_enrolment(self, world):
        app = world.application(submitted=True)
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "admit_to_training", world.officer)
        assert rule_codes(excinfo) == ["enrolled"]
        make_training_done(app, complete=False)
        assert take(app, "admit_to_training", world.officer).state == "business_training"

    def test_reject_needs_a_reason_and_tells_the_applicant(self, world, django_capture_on_commit_callbacks):
        app = world.application(submitted=True)
        with pytest.raises(RuleNotMet):
            take(app, "reject", world.officer)
        with django_capture_on_commit_callbacks(execute=True):
            app = take(app, "reject", world.manager, "No market for the product.")
        assert app.state == "rejected"
        assert app.closing_reason == "No market for the product."
        assert "No market for the product." in mail.outbox[-1].body

    def test_finance_cannot_reject(self, world):
        with pytest.raises(NotAllowed):
            take(world.application(submitted=True), "reject", world.finance, "no")


class TestApprove:
    def test_it_approves_and_commits_the_budget_in_one_step(self, world):
        app = world.application(ready=True)
        app = take(app, "approve", world.manager)
        assert app.state == "approved"
        assert app.approved_amount == Decimal("1100.00")
        commitment = Commitment.objects.get(application=app)
        assert (commitment.amount, commitment.status) == (Decimal("1100.00"), "active")
        assert world.programme.remaining_budget() == Decimal("98900.00")
        assert last_event(app).action == "approve"

    def test_each_item_keeps_what_was_granted_for_it(self, world):
        """Deliveries and cost control are measured against the granted quantity and
        unit cost; an approval as requested grants each item as asked."""
        app = world.application(ready=True)
        assert [(i.approved_quantity, i.approved_unit_cost) for i in app.items.all()] == [
            (None, None)
        ] * app.items.count()
        app = take(app, "approve", world.manager)
        granted = [
            (i.quantity_granted, i.unit_cost_granted, i.quantity, i.unit_cost) for i in app.items.all()
        ]
        assert granted and all(q == rq and c == rc for q, c, rq, rc in granted)
        assert sum(i.approved_total for i in app.items.all()) == app.approved_amount

    def test_the_budget_is_read_once_under_the_programme_lock(self, world):
        """The budget rules and django-fsm's conditions share one reading of the
        programme's ledger and one of its call's (two aggregates each), taken while the
        programme row is locked."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        app = world.application(ready=True)
        with CaptureQueriesContext(connection) as captured:
            take(app, "approve", world.manager)
        ledger_sums = [q["sql"] for q in captured.captured_queries if 'SUM("grants_' in q["sql"]]
        assert len(ledger_sums) == 4, ledger_sums
        assert world.programme.remaining_budget() == Decimal("98900.00")  # no reading left behind

    def test_it_refuses_while_training_is_incomplete(self, world):
        app = world.application(training=True)
        app.enrolments.get().attendance.update(present=False)
        make_assessment(app)
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "approve", world.manager)
        assert rule_codes(excinfo) == ["training_completed"]

    def test_it_refuses_without_an_assessment(self, world):
        with pytest.raises(RuleNotMet) as excinfo:
            take(world.application(training=True), "approve", world.manager)
        assert rule_codes(excinfo) == ["assessment_recommends", "assessment_passes"]

    def test_it_refuses_a_missing_score_and_says_so(self, world):
        app = world.application(training=True)
        make_assessment(app, scores={"viability": 5, "skills": 5, "market": 5, "need": 5})
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "approve", world.manager)
        assert rule_codes(excinfo) == ["assessment_passes"]
        assert "score is missing" in str(excinfo.value)

    def test_it_refuses_a_score_below_the_pass_mark(self, world):
        app = world.application(training=True)
        make_assessment(app, scores={c: 2 for c in ("viability", "skills", "market", "need", "commitment")})
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "approve", world.manager)
        assert rule_codes(excinfo) == ["assessment_passes"]

    def test_the_assessor_cannot_approve(self, world):
        world.officer.user_permissions.add(
            __import__("django.contrib.auth.models", fromlist=["Permission"]).Permission.objects.get(
                codename="approve_application"
            )
        )
        app = world.application(training=True)
        make_assessment(app, assessor=world.officer)
        with pytest.raises(NotAllowed) as excinfo:
            take(app, "approve", world.officer)
        assert "another person must approve" in str(excinfo.value.reason)

    def test_an_officer_without_the_approve_permission_cannot(self, world):
        with pytest.raises(NotAllowed):
            take(world.application(ready=True), "approve", world.colleague)

    def test_it_refuses_when_the_budget_is_exhausted(self, world):
        world.programme.budget = Decimal("1000.00")
        world.programme.save()
        with pytest.raises(RuleNotMet) as excinfo:
            take(world.application(ready=True), "approve", world.manager)
        assert rule_codes(excinfo) == ["budget_left"]
        assert "budget is exhausted" in str(excinfo.value)
        assert not Commitment.objects.exists()

    def test_approving_twice_is_a_conflict(self, world):
        app = world.application(ready=True)
        stale = GrantApplication.objects.get(pk=app.pk)
        take(app, "approve", world.manager)
        with pytest.raises(Conflict):
            take(stale, "approve", world.manager)
        assert Commitment.objects.count() == 1


class TestWithdrawCancel:
    @pytest.mark.parametrize("trait", ["draft", "submitted", "training"])
    def test_the_applicant_withdraws(self, world, trait):
        app = world.application(**({} if trait == "draft" else {trait: True}))
        assert take(app, "withdraw", world.applicant).state == "withdrawn"

    def test_withdrawing_an_approved_grant_is_not_possible(self, world):
        with pytest.raises(Conflict):
            take(world.application(approved=True), "withdraw", world.applicant)

    def test_cancel_releases_the_commitment(self, world):
        app = world.application(approved=True)
        assert world.programme.remaining_budget() == Decimal("98900.00")
        app = take(app, "cancel", world.manager, "Moved abroad.")
        assert app.state == "cancelled"
        assert Commitment.objects.get(application=app).status == "released"
        assert world.programme.remaining_budget() == Decimal("100000.00")

    def test_only_managers_cancel(self, world):
        with pytest.raises(NotAllowed):
            take(world.application(approved=True), "cancel", world.officer, "x")


class TestDelivery:
    def test_it_needs_every_item_and_the_signed_protocol(self, world):
        app = world.application(approved=True)
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "record_delivery", world.finance)
        assert rule_codes(excinfo) == ["all_items_delivered", "handover_protocol"]
        make_full_delivery(app, delivered_on=timezone.localdate(), protocol=False)
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "record_delivery", world.finance)
        assert rule_codes(excinfo) == ["handover_protocol"]
        upload_handover_protocol(app, world.finance)
        app.refresh_from_db()
        assert app.state == "equipment_delivered"

    def test_the_approver_cannot_record_the_delivery(self, world):
        app = world.application(approved=True, state_facts__approver=world.manager)
        make_full_delivery(app, delivered_on=timezone.localdate())
        world.manager.user_permissions.add(
            __import__("django.contrib.auth.models", fromlist=["Permission"]).Permission.objects.get(
                codename="record_delivery"
            )
        )
        with pytest.raises(NotAllowed) as excinfo:
            take(app, "record_delivery", world.manager)
        assert "another person must record" in str(excinfo.value.reason)

    def test_partial_deliveries_stay_approved_until_the_last_item(self, world):
        app = world.application(approved=True)
        first, second = app.items.all()
        services.record_delivery_lines(
            application=app,
            by=world.finance,
            delivered_on=timezone.localdate(),
            supplier="Tehno",
            invoice_number="A-1",
            lines=[{"item": first.pk, "quantity": 1, "actual_unit_cost": "600.00"}],
        )
        app.refresh_from_db()
        assert app.state == "approved"
        services.record_delivery_lines(
            application=app,
            by=world.finance,
            delivered_on=timezone.localdate(),
            supplier="Tehno",
            invoice_number="A-2",
            lines=[{"item": second.pk, "quantity": 1, "actual_unit_cost": "470.00"}],
        )
        app.refresh_from_db()
        assert app.state == "approved"
        upload_handover_protocol(app, world.finance)
        app.refresh_from_db()
        assert app.state == "equipment_delivered"
        actions = list(AuditEvent.objects.filter(application=app).values_list("action", flat=True))
        assert actions[-4:] == [
            "delivery",
            "delivery",
            "document_uploaded",
            "record_delivery",
        ]

    def test_the_quantity_due_counts_every_line_of_the_item_and_only_its_own(self, world):
        """Two lines of one item in one delivery add up; another grant's deliveries of an
        item with the same quantity change nothing here."""
        app = world.application(approved=True)
        other = world.application(approved=True)
        item = app.items.create(description="Sewing machine", quantity=3, unit_cost="100.00")
        other_item = other.items.create(description="Sewing machine", quantity=3, unit_cost="100.00")
        line = {"item": item.pk, "quantity": 2, "actual_unit_cost": "100.00"}
        with pytest.raises(ServiceError, match="1 still to deliver"):
            services.record_delivery_lines(
                application=app,
                by=world.finance,
                delivered_on=timezone.localdate(),
                supplier="Tehno",
                invoice_number="A-1",
                lines=[line, line],
            )
        services.record_delivery_lines(
            application=other,
            by=world.finance,
            delivered_on=timezone.localdate(),
            supplier="Tehno",
            invoice_number="B-1",
            lines=[{"item": other_item.pk, "quantity": 3, "actual_unit_cost": "100.00"}],
        )
        assert {i.pk: i.quantity_due for i in app.items.with_delivered()}[item.pk] == 3
        assert item.pk in {i.pk for i in app.undelivered_items()}
        assert other_item.pk not in {i.pk for i in other.undelivered_items()}


class TestFollowUp:
    def test_start_follow_up_schedules_visits_at_3_6_12_months(self, world):
        app = world.application(delivered=True, state_facts__delivered_on=datetime.date(2026, 1, 31))
        app = take(app, "start_follow_up", world.officer)
        assert app.state == "follow_up"
        assert list(app.visits.values_list("months", "due_on")) == [
            (3, datetime.date(2026, 4, 30)),
            (6, datetime.date(2026, 7, 31)),
            (12, datetime.date(2027, 1, 31)),
        ]

    def test_complete_needs_the_twelve_month_visit(self, world):
        app = world.application(follow_up=True)
        with pytest.raises(RuleNotMet) as excinfo:
            take(app, "complete", world.officer)
        assert rule_codes(excinfo) == ["last_visit_done"]
        app.visits.update(visited_on=timezone.localdate(), operating=True)
        assert take(app, "complete", world.officer).state == "completed"

    def test_discontinue_needs_a_reason(self, world):
        app = world.application(follow_up=True)
        with pytest.raises(RuleNotMet):
            take(app, "discontinue", world.officer)
        assert discontinue(app, world.officer, "Business closed.").state == "discontinued"


def test_unknown_transition_is_not_found(world):
    with pytest.raises(NotVisible):
        take(world.application(), "teleport", world.officer)


def test_staff_never_act_on_their_own_application(world):
    own = ApplicantFactory(centre=world.centre, user=world.colleague)
    app = world.application(applicant=own)
    with pytest.raises(NotAllowed) as excinfo:
        take(app, "submit", world.colleague)
    assert "your own application" in str(excinfo.value.reason)


def test_the_audit_trail_is_append_only(world):
    app = take(world.application(), "submit", world.applicant)
    event = last_event(app)
    event.to_state = "approved"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(to_state="approved")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
