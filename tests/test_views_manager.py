"""The programme manager's pages: the approvals queue with the budget left beside each
application, approving and rejecting from it (four eyes kept), programmes and calls."""

from decimal import Decimal

import pytest
from django.urls import reverse

from assessments.services import record_assessment
from grants.models import AuditEvent, Commitment

from .conftest import verified_login
from .factories import (
    RUBRIC,
    ApplicantFactory,
    ApplicationFactory,
    ProgrammeFactory,
    make_assessment,
)

pytestmark = pytest.mark.django_db
SCORED = [code for code, _label, _weight in RUBRIC]


@pytest.fixture
def manager(client, world):
    return verified_login(client, world.manager)


class TestApprovalsQueue:
    def test_it_lists_only_trained_and_assessed_applications(self, manager, world):
        world.application(ready=True, business_name="Ready bakery")
        world.application(training=True, business_name="Not assessed yet")
        world.application(submitted=True, business_name="Only submitted")

        body = manager.get(reverse("approvals")).content.decode()

        assert "Ready bakery" in body
        assert "Not assessed yet" not in body
        assert "Only submitted" not in body

    def test_training_below_the_threshold_keeps_it_out(self, manager, world):
        application = world.application(training=True, business_name="Missed sessions")
        enrolment = application.enrolments.get()
        enrolment.attendance.filter(pk__in=enrolment.attendance.values("pk")[:2]).update(present=False)
        make_assessment(application)
        assert "Missed sessions" not in manager.get(reverse("approvals")).content.decode()

    def test_the_pass_mark_flag_is_the_approve_guards_rule(self, manager, world):
        """Exactly at the pass mark (3.00) passes; 2.85 is flagged, and so is an
        incomplete assessment, whose partial score (5.00) is above the mark: the approve
        step would refuse both."""
        rows = {
            "At the mark": dict.fromkeys(SCORED, 3),
            "Just below": {**dict.fromkeys(SCORED, 3), "commitment": 2},
            "Incomplete": dict.fromkeys(SCORED[:-1], 5),
        }
        for name, scores in rows.items():
            app = world.application(
                training=True, business_name=name, applicant=ApplicantFactory(centre=world.centre)
            )
            record_assessment(by=world.officer, application=app, scores=scores, recommendation="approve")

        response = manager.get(reverse("approvals"))

        passes = {a.business_name: a.passes for a in response.context["page"]}
        assert passes == {"At the mark": True, "Just below": False, "Incomplete": False}
        assert response.content.decode().count("below the pass mark or incomplete") == 2

    def test_the_budget_left_is_beside_each(self, manager, world):
        programme = ProgrammeFactory(country=world.serbia, budget=Decimal("2000.00"), name="Small fund")
        ApplicationFactory(
            applicant=ApplicantFactory(centre=world.centre), programme=programme, approved=True
        )
        world.application(ready=True, programme=programme, business_name="Needs 1100")
        world.application(ready=True, business_name="Big fund")

        response = manager.get(reverse("approvals"))

        assert programme.remaining_budget() == Decimal("900.00")  # 2000 − the 1100 committed
        rows = {a.business_name: a for a in response.context["page"]}
        assert (rows["Needs 1100"].budget_left, rows["Needs 1100"].budget_short) == (Decimal("900.00"), True)
        assert (rows["Big fund"].budget_left, rows["Big fund"].budget_short) == (Decimal("100000.00"), False)
        body = response.content.decode()
        assert "900.00 EUR — not enough for this grant" in body
        assert body.count("not enough for this grant") == 1

    def test_approving_from_the_queue_commits_and_comes_back(self, manager, world):
        application = world.application(ready=True)

        response = manager.post(
            reverse("application-step", args=[application.pk]),
            {"transition": "approve", "next": reverse("approvals")},
        )

        assert response.url == reverse("approvals")
        application.refresh_from_db()
        assert application.state == "approved"
        commitment = Commitment.objects.get(application=application)
        assert (commitment.amount, commitment.status) == (application.approved_amount, "active")
        event = AuditEvent.objects.filter(application=application).latest("id")
        assert (event.action, event.actor) == ("approve", world.manager)

    def test_rejecting_needs_a_reason(self, manager, world):
        application = world.application(ready=True)
        url = reverse("application-step", args=[application.pk])

        refused = manager.post(url, {"transition": "reject", "next": reverse("approvals")})
        assert refused.status_code == 400
        assert "Give the reason for the rejection" in refused.content.decode()
        application.refresh_from_db()
        assert application.state == "business_training"

        manager.post(url, {"transition": "reject", "comment": "The market is saturated."})
        application.refresh_from_db()
        assert (application.state, application.closing_reason) == ("rejected", "The market is saturated.")

    def test_whoever_assessed_it_does_not_approve_it(self, manager, world):
        application = world.application(ready=True, state_facts__assessor=world.manager)

        body = manager.get(reverse("approvals")).content.decode()
        assert "another person must approve it" in body
        assert f'action="{reverse("application-step", args=[application.pk])}"' not in body

        response = manager.post(reverse("application-step", args=[application.pk]), {"transition": "approve"})
        assert response.status_code == 403
        application.refresh_from_db()
        assert application.state == "business_training"

    def test_the_queue_has_a_bounded_number_of_queries(self, manager, world, django_assert_max_num_queries):
        for _ in range(8):
            world.application(ready=True, applicant=ApplicantFactory(centre=world.centre))
        # 16: the page's people and centres are read by id (two queries), not joined.
        with django_assert_max_num_queries(16):
            response = manager.get(reverse("approvals"))
        assert response.content.decode().count('name="transition" value="approve"') == 8


class TestApprovalsPages:
    """The queue is read a slice of applications in training at a time (selectors.
    approvals_page): the pages hold the same rows, in the same order, as the one query."""

    def make_queue(self, world, ready, waiting):
        made = []
        for i in range(ready + waiting):
            made.append(
                world.application(
                    ready=i % 2 == 0 or i >= 2 * waiting,
                    training=True,
                    applicant=ApplicantFactory(centre=world.centre),
                )
            )
        return made

    def test_the_pages_are_the_queue_in_order(self, world):
        from assessments import selectors

        self.make_queue(world, ready=7, waiting=6)
        expected = [a.pk for a in selectors.approvals_ready(world.manager)]
        assert len(expected) == 7

        pages = [selectors.approvals_page(world.manager, number, per_page=3) for number in (1, 2, 3, 4)]

        assert [a.pk for page in pages for a in page] == expected
        assert [page.has_next for page in pages] == [True, True, False, False]
        assert [len(page) for page in pages] == [3, 3, 1, 0]

    def test_a_slice_where_nothing_passes_is_skipped(self, world):
        from assessments import selectors

        # Twelve in training, not assessed, submitted first: the first slices hold none.
        for _ in range(12):
            world.application(training=True, applicant=ApplicantFactory(centre=world.centre))
        last = world.application(ready=True, applicant=ApplicantFactory(centre=world.centre))

        page = selectors.approvals_page(world.manager, 1, per_page=2)

        assert [a.pk for a in page] == [last.pk]
        assert not page.has_next

    def test_the_page_links_to_the_next_without_counting(self, manager, world):
        from assessments import selectors

        self.make_queue(world, ready=3, waiting=0)
        first = selectors.approvals_page(world.manager, 1, per_page=50)
        assert len(first) == 3

        body = manager.get(reverse("approvals") + "?page=2").content.decode()
        assert "Nothing is waiting for approval." in body
        assert manager.get(reverse("approvals") + "?page=x").status_code == 200


class TestProgrammes:
    def test_it_lists_the_programmes_and_their_calls(self, manager, world):
        ProgrammeFactory(
            country=world.serbia, name="Closed call fund", call_opens="2020-01-01", call_closes="2020-12-31"
        )
        body = manager.get(reverse("programme-list")).content.decode()
        assert world.programme.name in body
        assert world.other_programme.name in body
        assert "Closed call fund" in body
        assert ">open<" in body and ">closed<" in body


class TestManagerSees:
    def test_the_inbox_and_the_application_page_with_its_sensitive_section(self, manager, world):
        application = world.application(submitted=True, business_name="Seen by manager")
        assert "Seen by manager" in manager.get(reverse("inbox")).content.decode()
        body = manager.get(reverse("application-detail", args=[application.pk])).content.decode()
        assert "Show sensitive facts" in body
        assert 'value="reject"' in body
        assert 'value="return_for_changes"' not in body  # a field officer's step

    def test_the_home_page_is_the_queue(self, manager):
        assert manager.get(reverse("home")).url == reverse("approvals")

    @pytest.mark.parametrize("name", ["applicant-register", "cohort-new", "my-applications"])
    def test_field_officer_and_applicant_pages_answer_403(self, manager, name):
        assert manager.get(reverse(name)).status_code == 403

    def test_recording_a_delivery_is_not_the_managers(self, manager, world):
        application = world.application(approved=True)
        assert manager.get(reverse("delivery-new", args=[application.pk])).status_code == 403


class TestReassign:
    def test_the_manager_gives_the_application_to_another_officer(self, manager, world):
        application = world.application(submitted=True)
        page = manager.get(reverse("application-detail", args=[application.pk])).content.decode()
        assert f'<option value="{world.colleague.pk}"' in page
        assert f'<option value="{world.officer2.pk}"' not in page  # another centre's officer

        response = manager.post(
            reverse("application-reassign", args=[application.pk]), {"officer": world.colleague.pk}
        )

        assert response.url == reverse("application-detail", args=[application.pk])
        application.refresh_from_db()
        assert application.assigned_officer == world.colleague
        event = AuditEvent.objects.filter(application=application).latest("id")
        assert (event.action, event.actor) == ("reassigned", world.manager)

    def test_an_officer_of_another_centre_is_refused(self, manager, world):
        application = world.application(submitted=True)
        manager.post(reverse("application-reassign", args=[application.pk]), {"officer": world.officer2.pk})
        application.refresh_from_db()
        assert application.assigned_officer == world.officer

    def test_officers_cannot_reassign(self, client, world):
        application = world.application(submitted=True)
        verified_login(client, world.officer)
        response = client.post(
            reverse("application-reassign", args=[application.pk]), {"officer": world.colleague.pk}
        )
        assert response.status_code == 403
