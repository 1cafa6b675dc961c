"""A call's selection committee: declarations, independent scores, the committee result,
the ranked list cut at the call's budget, its approval and the reserve offers."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from applicants import roles
from audit.models import AuditEvent
from core.errors import NotAllowed, NotVisible, RuleNotMet
from grants import services as grant_services
from grants.models import ListApprover
from selection import permissions, selectors
from selection import services as selection_services
from selection.models import ReserveOffer

from .factories import (
    ApplicantFactory,
    committee_member,
    committee_scores,
    make_assessment,
    make_committee,
    staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(world):
    """The world's call with a committee of three: the manager chairs, two external."""
    call = world.programme.calls.get()
    world.member_a = committee_member("member_a")
    world.member_b = committee_member("member_b")
    world.committee = make_committee(call, chair=world.manager, members=[world.member_a, world.member_b])
    world.call = call
    return world


def share(board, amount):
    board.call.budget = Decimal(amount)
    board.call.save(update_fields=["budget"])


def ready(world, amount="1000.00", **kwargs):
    """An application in training, trained and assessed (approvable), asking `amount`."""
    person = ApplicantFactory(centre=world.centre)
    app = world.application(applicant=person, ready=True, items=[("Oven", 1, amount)], **kwargs)
    make_assessment(app, assessor=world.colleague)
    return app


class TestScoring:
    def test_scores_are_averaged_with_the_spread(self, board):
        app = ready(board)
        committee_scores(board.manager, app, 5)
        committee_scores(board.member_a, app, 4)
        committee_scores(board.member_b, app, 2)
        row = selectors.ranked_list(board.call)[0]
        assert row.result == Decimal("3.67")
        assert row.spread == Decimal("3.00")
        event = AuditEvent.objects.filter(action="committee_scored", application=app).last()
        assert event.actor == board.member_b and "weighted" not in event.data

    def test_the_median_when_the_programme_says_so(self, board):
        board.programme.committee_result = "median"
        board.programme.save()
        app = ready(board)
        for user, value in ((board.manager, 5), (board.member_a, 4), (board.member_b, 2)):
            committee_scores(user, app, value)
        assert selectors.ranked_list(board.call)[0].result == Decimal("4.00")

    def test_a_declared_conflict_excludes_the_member(self, board):
        app = ready(board)
        committee_scores(board.member_a, app, conflict=True)
        committee_scores(board.manager, app, 5)
        committee_scores(board.member_b, app, 3)
        assert selectors.ranked_list(board.call)[0].result == Decimal("4.00")
        assert permissions.can_view_as_member(board.member_a, app) == permissions.NOT_VISIBLE
        with pytest.raises(NotVisible):
            selection_services.score(application=app, by=board.member_a, scores={})
        assert app not in selectors.member_applications(board.committee.members.get(user=board.member_a))
        assert [
            row
            for row, _shown in selectors.visible_rows(
                board.member_a, board.call, selectors.ranked_list(board.call)
            )
        ] == []

    def test_a_member_sees_no_other_scores_before_their_own(self, board):
        app = ready(board)
        committee_scores(board.member_a, app, 5)
        selection_services.declare(application=app, by=board.member_b, conflict=False)
        assert not permissions.can_see_scores(board.member_b, app)
        shown = dict(
            (row.application.pk, shown)
            for row, shown in selectors.visible_rows(
                board.member_b, board.call, selectors.ranked_list(board.call)
            )
        )
        assert shown == {app.pk: False}
        committee_scores_only(board.member_b, app, 3)
        assert permissions.can_see_scores(board.member_b, app)

    def test_scores_are_given_once_for_every_criterion(self, board):
        app = ready(board)
        selection_services.declare(application=app, by=board.member_a, conflict=False)
        criterion = app.programme.rubric.first()
        with pytest.raises(RuleNotMet):
            selection_services.score(application=app, by=board.member_a, scores={criterion.pk: 4})
        committee_scores_only(board.member_a, app, 4)
        with pytest.raises(NotAllowed):
            committee_scores_only(board.member_a, app, 5)

    def test_someone_off_the_committee_cannot_score(self, board):
        app = ready(board)
        outsider = committee_member("outsider")
        with pytest.raises(NotVisible):
            selection_services.declare(application=app, by=outsider, conflict=False)


def committee_scores_only(user, app, value):
    scores = {c.pk: value for c in app.programme.rubric.all()}
    return selection_services.score(application=app, by=user, scores=scores)


def score_all(board, app, value):
    for user in (board.manager, board.member_a, board.member_b):
        committee_scores(user, app, value)


class TestRankedList:
    def test_it_is_cut_at_the_calls_budget_with_a_reserve(self, board):
        share(board, "2500.00")
        best, second, third, weak = ready(board), ready(board), ready(board), ready(board)
        score_all(board, best, 5)
        score_all(board, second, 4)
        score_all(board, third, 4)
        score_all(board, weak, 2)
        rows = selectors.ranked_list(board.call)
        assert [(r.application.pk, r.recommendation) for r in rows] == [
            (best.pk, "fund"),
            (second.pk, "fund"),
            (third.pk, "reserve"),
            (weak.pk, "do_not_fund"),
        ]
        assert [r.cumulative for r in rows[:2]] == [Decimal("1000.00"), Decimal("2000.00")]

    def test_ties_go_to_the_higher_lowest_score_then_the_earlier_submission(self, board):
        even, uneven, later = ready(board), ready(board), ready(board)
        for user in (board.manager, board.member_a, board.member_b):
            committee_scores(user, even, 4)
        for user, value in ((board.manager, 5), (board.member_a, 4), (board.member_b, 3)):
            committee_scores(user, uneven, value)
        later.submitted_at = timezone.now() + datetime.timedelta(hours=1)
        later.save(update_fields=["submitted_at"])
        for user in (board.manager, board.member_a, board.member_b):
            committee_scores(user, later, 4)
        assert [r.application.pk for r in selectors.ranked_list(board.call)] == [even.pk, later.pk, uneven.pk]

    def test_the_approver_approves_the_list_through_the_approve_step(self, board):
        share(board, "2000.00")
        first, second, third = ready(board), ready(board), ready(board)
        for app, value in ((first, 5), (second, 4), (third, 3)):
            score_all(board, app, value)
        result = selection_services.approve_list(call=board.call, by=board.manager)
        assert result == {"approved": [first.pk, second.pk], "refused": {}}
        first.refresh_from_db()
        assert (first.state, first.approved_by) == ("approved", board.manager)
        assert AuditEvent.objects.filter(action="approve", application=first).exists()
        assert AuditEvent.objects.get(action="ranked_list_approved").data["approved"] == [first.pk, second.pk]

    def test_only_the_chosen_approver_approves(self, board):
        board.programme.list_approver = ListApprover.CHAIR
        board.programme.save()
        app = ready(board)
        score_all(board, app, 5)
        with pytest.raises(NotAllowed):
            selection_services.approve_list(call=board.call, by=board.officer)
        board.committee.chair = board.member_a
        board.committee.save()
        assert selection_services.approve_list(call=board.call, by=board.member_a)["approved"] == [app.pk]

    def test_a_field_officer_who_assessed_it_does_not_approve_it(self, board):
        board.programme.list_approver = ListApprover.OFFICER
        board.programme.save()
        app = ready(board)
        score_all(board, app, 5)
        result = selection_services.approve_list(call=board.call, by=board.colleague)
        assert result["approved"] == [] and app.pk in result["refused"]
        assert selection_services.approve_list(call=board.call, by=board.officer)["approved"] == [app.pk]


class TestReserve:
    def test_a_withdrawal_offers_the_money_to_the_first_reserve(self, board):
        share(board, "2000.00")
        funded, waiting, reserve = ready(board), ready(board), ready(board)
        for app, value in ((funded, 5), (waiting, 4), (reserve, 3)):
            score_all(board, app, value)
        selection_services.approve_list(call=board.call, by=board.manager)
        assert not ReserveOffer.objects.exists()
        grant_services.take_transition(
            application=funded, name="cancel", by=board.manager, comment="Moved abroad."
        )
        offer = ReserveOffer.objects.get()
        assert (offer.application, offer.status, offer.reason) == (reserve, "open", "cancelled")
        reserve.refresh_from_db()
        assert reserve.state == "business_training"  # an offer, not a silent approval
        assert AuditEvent.objects.filter(action="reserve_offered", application=reserve).exists()
        assert selectors.open_offers_for(board.manager) == [offer]
        assert selectors.open_offers_for(board.member_a) == []
        selection_services.decide_offer(offer=offer, by=board.manager, accept=True)
        reserve.refresh_from_db()
        assert reserve.state == "approved"

    def test_a_declined_offer_goes_to_the_next(self, board):
        share(board, "1000.00")
        funded, first, second = ready(board), ready(board), ready(board)
        for app, value in ((funded, 5), (first, 4), (second, 3)):
            score_all(board, app, value)
        selection_services.approve_list(call=board.call, by=board.manager)
        grant_services.take_transition(application=funded, name="cancel", by=board.manager, comment="Closed.")
        offer = ReserveOffer.objects.get(application=first)
        selection_services.decide_offer(
            offer=offer, by=board.manager, accept=False, comment="No longer reachable."
        )
        assert ReserveOffer.objects.get(status="open").application == second


class TestCommittee:
    def test_a_manager_names_the_committee_and_it_is_audited(self, world):
        call = world.programme.calls.get()
        external = committee_member("external")
        committee = selection_services.set_committee(
            call=call, chair=world.manager, members=[external, world.officer], by=world.manager
        )
        assert sorted(committee.members.values_list("user__username", flat=True)) == [
            "external",
            "manager",
            "officer",
        ]
        assert AuditEvent.objects.get(action="committee_named").data["after"]["chair"] == world.manager.pk

    def test_an_officer_cannot_name_it(self, world):
        with pytest.raises(NotAllowed):
            selection_services.set_committee(
                call=world.programme.calls.get(), chair=world.officer, members=[], by=world.officer
            )

    def test_the_committee_role_sees_only_its_calls(self, board):
        assert list(selectors.calls_for(board.member_a)) == [board.call]
        stranger = committee_member("stranger")
        assert list(selectors.calls_for(stranger)) == []
        assert roles.has_role(board.member_a, roles.COMMITTEE_MEMBER)
        other_staff = staff(roles.PROGRAMME_MANAGER, board.other_centre)
        assert board.call not in selectors.calls_for(other_staff)
