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


class TestMinutes:
    def test_the_minutes_name_every_declaration_and_the_decisions(self, board, client):
        from io import BytesIO

        from pypdf import PdfReader

        from .conftest import verified_login

        share(board, "1000.00")
        funded, reserve = ready(board), ready(board)
        committee_scores(board.member_a, funded, conflict=True)
        for user in (board.manager, board.member_b):
            committee_scores(user, funded, 5)
        for user in (board.manager, board.member_a, board.member_b):
            committee_scores(user, reserve, 3)
        selection_services.approve_list(call=board.call, by=board.manager)
        board.member_a.first_name, board.member_a.last_name = "Ana", "Extern"
        board.member_a.save()
        verified_login(client, board.manager)
        response = client.get(f"/selection/calls/{board.call.pk}/minutes.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = " ".join(page.extract_text() for page in PdfReader(BytesIO(response.content)).pages)
        text = " ".join(text.split())
        # the world's programme is in Serbia: Serbian Latin
        assert "Zapisnik komisije za izbor" in text
        assert f"Ana Extern – #{funded.pk}: prijavljen sukob interesa" in text
        assert f"member_b – #{funded.pk}: nema sukoba interesa" in text
        assert f"Ana Extern – #{reserve.pk}: nema sukoba interesa" in text
        assert "finansirati" in text and "rezerva" in text
        assert f"#{funded.pk} odobreno" in text and "/la" not in text
        assert AuditEvent.objects.filter(action="selection_minutes_printed").exists()

    def test_a_member_who_is_not_chair_does_not_read_the_minutes(self, board, client):
        from .conftest import verified_login

        verified_login(client, board.member_a)
        assert client.get(f"/selection/calls/{board.call.pk}/minutes.pdf").status_code == 403


class TestPagesAndApi:
    def test_a_member_scores_through_the_pages(self, board, client):
        from .conftest import verified_login

        app = ready(board)
        verified_login(client, board.member_a)
        assert client.get("/selection/").status_code == 200
        page = client.get(f"/selection/calls/{board.call.pk}/")
        assert page.status_code == 200 and app in page.context["mine"]
        assert (
            client.post(f"/selection/applications/{app.pk}/declare/", {"conflict": "no"}).status_code == 302
        )
        form = {f"criterion-{c.pk}": 4 for c in app.programme.rubric.all()}
        assert client.post(f"/selection/applications/{app.pk}/", form).status_code == 302
        page = client.get(f"/selection/applications/{app.pk}/")
        assert page.context["see_scores"] and len(page.context["scorings"]) == 1
        assert page.context["target_groups"] is None  # the programme does not allow it

    def test_sensitive_facts_only_where_the_programme_allows(self, board, client):
        from .conftest import verified_login

        board.programme.committee_sees_sensitive = True
        board.programme.save()
        app = ready(board)
        verified_login(client, board.member_a)
        assert client.get(f"/selection/applications/{app.pk}/").context["target_groups"] is not None

    def test_an_application_of_another_call_is_not_found(self, board, client):
        from .conftest import verified_login

        other = board.application(applicant=board.person2, programme=board.other_programme, submitted=True)
        verified_login(client, board.member_a)
        assert client.get(f"/selection/applications/{other.pk}/").status_code == 404

    def test_the_api_scores_and_hides_others_until_then(self, board, api):
        app = ready(board)
        committee_scores(board.member_b, app, 5)
        client = api(board.member_a)
        assert client.get(f"/api/v1/applications/{app.pk}/committee-scores/").status_code == 403
        assert (
            client.post(
                f"/api/v1/applications/{app.pk}/declaration/", {"conflict": False}, format="json"
            ).status_code
            == 201
        )
        assert client.get(f"/api/v1/applications/{app.pk}/committee-scores/").status_code == 403
        ranking = client.get(f"/api/v1/calls/{board.call.pk}/ranking/").json()
        assert ranking["results"][0]["result"] is None
        scores = {str(c.pk): 3 for c in app.programme.rubric.all()}
        response = client.post(
            f"/api/v1/applications/{app.pk}/committee-scores/", {"scores": scores}, format="json"
        )
        assert response.status_code == 201, response.content
        assert response.json()["result"] == "4.00" and response.json()["spread"] == "2.00"
        assert client.get(f"/api/v1/calls/{board.call.pk}/ranking/").json()["results"][0]["result"] == "4.00"

    def test_the_api_names_the_committee_approves_and_lists_offers(self, board, api):
        client = api(board.manager)
        response = client.put(
            f"/api/v1/calls/{board.call.pk}/committee/",
            {"chair": board.member_a.pk, "members": [board.member_b.pk]},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert response.json()["chair"] == board.member_a.pk
        assert [c["id"] for c in client.get(f"/api/v1/programmes/{board.programme.pk}/calls/").json()] == [
            board.call.pk
        ]
        app = ready(board)
        for user in (board.member_a, board.member_b):
            committee_scores(user, app, 5)
        approved = client.post(f"/api/v1/calls/{board.call.pk}/ranking/approve/", {}, format="json").json()
        assert approved == {"approved": [app.pk], "refused": {}}
        assert client.get("/api/v1/reserve-offers/").json() == []
        assert (
            api(board.member_a)
            .post(f"/api/v1/calls/{board.call.pk}/ranking/approve/", {}, format="json")
            .status_code
            == 403
        )

    def test_the_ranked_list_takes_a_bounded_number_of_queries(
        self, board, api, django_assert_max_num_queries
    ):
        apps = [ready(board) for _ in range(3)]
        for app in apps:
            score_all(board, app, 4)
        client = api(board.manager)
        client.get(f"/api/v1/calls/{board.call.pk}/ranking/")
        with django_assert_max_num_queries(12) as few:
            client.get(f"/api/v1/calls/{board.call.pk}/ranking/")
        for _ in range(4):
            score_all(board, ready(board), 3)
        with django_assert_max_num_queries(len(few)):
            assert len(client.get(f"/api/v1/calls/{board.call.pk}/ranking/").json()["results"]) == 7

    def test_the_call_page_takes_a_bounded_number_of_queries(
        self, board, client, django_assert_max_num_queries
    ):
        from .conftest import verified_login

        for _ in range(2):
            score_all(board, ready(board), 4)
        verified_login(client, board.member_a)
        url = f"/selection/calls/{board.call.pk}/"
        client.get(url)
        with django_assert_max_num_queries(30) as few:
            client.get(url)
        for _ in range(4):
            score_all(board, ready(board), 3)
        with django_assert_max_num_queries(len(few)):
            assert len(client.get(url).context["rows"]) == 6


class TestDemo:
    def test_the_seeded_call_is_ranked_cut_and_reserved_for_its_budget(self, world):
        from demo.seed import SELECTION_BUDGET, seed_selection

        call = seed_selection(
            programme=world.other_programme,
            centre=world.other_centre,
            officer=world.officer2,
            manager=world.manager,
        )
        rows = selectors.ranked_list(call)
        assert call.budget == SELECTION_BUDGET
        assert [(r.application.business_name, str(r.result), r.recommendation) for r in rows] == [
            ("Bakery Krasniqi", "4.67", "fund"),
            ("Car repair Berisha", "4.50", "fund"),
            ("Hair salon Gashi", "4.00", "reserve"),
            ("Beekeeping Hoxha", "2.33", "do_not_fund"),
        ]
        assert rows[1].cumulative == Decimal("4500.00") <= call.budget < rows[1].cumulative + rows[2].amount
        assert rows[1].spread == Decimal("1.00") and len(rows[1].scores) == 2  # the officer's conflict
        assert sum(c.budget for c in world.other_programme.calls.all()) == world.other_programme.budget
