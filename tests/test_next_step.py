"""The next-step panel at the top of the application page (casework/next_step.py), role
by role and state by state: the state in plain words, each unmet rule with a link to
what meets it, the one primary action, and whom the others wait for."""

import datetime
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from grants import transitions, workflow
from grants.workflow import State

from .conftest import verified_login
from .factories import (
    ApplicantFactory,
    DuplicateFlagFactory,
    TrainingCohortFactory,
    make_assessment,
    today,
)

pytestmark = pytest.mark.django_db


class Panel(HTMLParser):
    """What the panel shows: its heading, each blocker's text and links, the primary
    action, the waiting sentences."""

    def __init__(self, html):
        super().__init__()
        self.depth = 0
        self.inside = False
        self.title = ""
        self.blockers = []
        self.primary = None
        self.waiting = ""
        self.text = ""
        self._into = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        testid = attrs.get("data-testid")
        if testid == "next-step":
            self.inside = True
        if not self.inside:
            return
        if tag == "section":
            self.depth += 1
        if tag == "h2":
            self._into = "title"
        elif testid == "blocker":
            self.blockers.append({"text": "", "links": []})
            self._into = "blocker"
        elif testid == "waiting":
            self._into = "waiting"
        elif testid == "primary-action":
            assert self.primary is None, "more than one primary action"
            self.primary = {"tag": tag, "label": "", "href": attrs.get("href"), "step": attrs.get("value")}
            self.primary["class"] = attrs.get("class", "")
            self.primary["form"] = attrs.get("form")
            self._into = "primary"
        if tag == "a" and self._into == "blocker":
            self.blockers[-1]["links"].append(attrs["href"])

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "section":
            self.depth -= 1
            if self.depth == 0:
                self.inside = False
        if (self._into, tag) in (
            ("title", "h2"),
            ("blocker", "li"),
            ("waiting", "div"),
            ("primary", "button"),
        ):
            self._into = None
        if (self._into, tag) == ("primary", "a"):
            self._into = None

    def handle_data(self, data):
        if not self.inside:
            return
        self.text += data
        if self._into == "title":
            self.title += data
        elif self._into == "blocker":
            self.blockers[-1]["text"] += data
        elif self._into == "waiting":
            self.waiting += data
        elif self._into == "primary":
            self.primary["label"] += data.strip()


def panel_of(client, user, application):
    response = verified_login(client, user).get(reverse("application-detail", args=[application.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    if 'form="steps-form"' in html:
        assert '<form method="post" action="' in html and 'id="steps-form"' in html
    assert html.count('data-testid="next-step"') == 1
    # At the top: before every other section of the page.
    assert html.index("<section", html.index("<main")) == html.index('<section class="next-step"')
    return Panel(html)


def blocker_with(panel, sentence):
    found = [b for b in panel.blockers if str(sentence) in b["text"]]
    assert found, f"no blocker saying {sentence!r} in {panel.blockers}"
    return found[0]


# ---- the applicant's draft ---------------------------------------------------------------


def test_the_applicant_sees_only_the_missing_fields_each_linked_to_its_field(client, world):
    application = world.application(market="", expected_monthly_costs=None)

    panel = panel_of(client, world.applicant, application)

    edit = reverse("application-edit", args=[application.pk])
    assert [b["links"] for b in panel.blockers] == [
        [f"{edit}#id_market"],
        [f"{edit}#id_expected_monthly_costs"],
    ]
    assert "Who will buy from you?" in panel.blockers[0]["text"]
    # Filled fields are not listed.
    assert "Business name" not in panel.text
    assert panel.primary["href"] == f"{edit}#id_market"
    assert panel.waiting == ""


def test_a_draft_without_equipment_links_to_the_form(client, world):
    application = world.application(items=[])

    panel = panel_of(client, world.applicant, application)

    blocker = blocker_with(panel, workflow.HAS_ITEMS.message)
    assert blocker["links"] == [reverse("application-edit", args=[application.pk])]


def test_a_ready_draft_offers_send_as_the_primary_action(client, world):
    application = world.application()

    panel = panel_of(client, world.applicant, application)

    assert panel.blockers == []
    assert panel.primary["tag"] == "button"
    assert panel.primary["step"] == "submit"
    assert panel.primary["label"] == str(transitions.SUBMIT.button)
    assert "primary" in panel.primary["class"]
    # It submits the steps form, with whatever comment was typed there.
    assert panel.primary["form"] == "steps-form"


def test_the_primary_action_takes_the_step(client, world):
    application = world.application()
    verified_login(client, world.applicant)

    response = client.post(reverse("application-step", args=[application.pk]), {"transition": "submit"})

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED


def test_the_applicant_waits_once_the_application_is_sent(client, world):
    application = world.application(submitted=True)

    panel = panel_of(client, world.applicant, application)

    assert panel.primary is None
    assert panel.blockers == []
    assert str(transitions.ADMIT_TO_TRAINING.waiting) in panel.waiting


def test_the_applicants_withdraw_asks_for_confirmation(client, world):
    application = world.application()
    verified_login(client, world.applicant)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    confirm = html[html.index('data-testid="confirm-withdraw"') :]
    confirm = confirm[: confirm.index("</details>")]
    assert 'value="withdraw"' in confirm
    # The only withdraw button is inside the confirmation.
    assert html.count('value="withdraw"') == 1


# ---- the field officer -------------------------------------------------------------------


def test_officer_sees_enrolment_first_not_assess(client, world):
    application = world.application(submitted=True)
    TrainingCohortFactory(programme=application.programme, centre=application.centre)

    panel = panel_of(client, world.officer, application)

    blocker = blocker_with(panel, workflow.ENROLLED.message)
    detail = reverse("application-detail", args=[application.pk])
    assert blocker["links"] == [f"{detail}#enrol-cohort"]
    assert panel.primary["href"] == f"{detail}#enrol-cohort"
    assert panel.primary["label"] == "Enrol in a course"


def test_officer_without_a_course_is_sent_to_create_one(client, world):
    application = world.application(submitted=True)

    panel = panel_of(client, world.officer, application)

    assert panel.primary["href"] == reverse("cohort-new")


def test_officer_with_enrolment_admits_to_training(client, world):
    application = world.application(submitted=True)
    cohort = TrainingCohortFactory(programme=application.programme, centre=application.centre)
    cohort.enrolments.create(application=application)

    panel = panel_of(client, world.officer, application)

    assert panel.blockers == []
    assert panel.primary["step"] == "admit_to_training"


def test_officer_in_training_is_sent_to_attendance_and_assessment(client, world):
    application = world.application(training=True)
    cohort = application.enrolments.get().cohort
    application.enrolments.get().attendance.update(present=False)

    panel = panel_of(client, world.officer, application)

    training = blocker_with(panel, workflow.TRAINING_COMPLETED.message)
    assert training["links"] == [reverse("cohort-detail", args=[cohort.pk]) + "#sheet-title"]
    assessment = blocker_with(panel, workflow.ASSESSMENT_RECOMMENDS.message)
    assert assessment["links"] == [reverse("assessment-form", args=[application.pk])]
    # No assessment fails two rules: one blocker says both, with one link.
    assert "There is no assessment yet." in assessment["text"]
    assert len(panel.blockers) == 2
    assert panel.primary["href"] == training["links"][0]
    # Approval is the manager's.
    assert str(transitions.APPROVE.waiting) in panel.waiting


def test_officer_after_assessing_waits_for_the_managers_approval(client, world):
    application = world.application(ready=True)

    panel = panel_of(client, world.officer, application)

    assert panel.blockers == []
    assert panel.primary is None
    assert str(transitions.APPROVE.waiting) in panel.waiting


def test_officer_is_sent_to_decide_an_open_duplicate(client, world):
    application = world.application(ready=True)
    DuplicateFlagFactory(applicant=world.person, other=ApplicantFactory(centre=world.centre))

    panel = panel_of(client, world.officer, application)

    blocker = blocker_with(panel, workflow.NO_OPEN_DUPLICATE.message)
    assert blocker["links"] == [reverse("duplicate-list")]
    assert panel.primary["href"] == reverse("duplicate-list")


def test_officer_is_sent_to_upload_the_handover_protocol(client, world):
    application = world.application(approved=True)
    from .factories import make_full_delivery

    make_full_delivery(application, delivered_on=today(), protocol=False)

    panel = panel_of(client, world.officer, application)

    blocker = blocker_with(panel, workflow.HANDOVER_PROTOCOL.message)
    detail = reverse("application-detail", args=[application.pk])
    assert blocker["links"] == [f"{detail}?upload=handover_protocol#id_kind"]
    assert panel.primary["href"] == blocker["links"][0]


def test_the_upload_link_chooses_the_kind_in_the_form(client, world):
    application = world.application(approved=True)
    verified_login(client, world.officer)

    html = client.get(
        reverse("application-detail", args=[application.pk]) + "?upload=handover_protocol"
    ).content

    assert b'<option value="handover_protocol" selected>' in html


def test_officer_in_follow_up_records_the_due_visit(client, world):
    application = world.application(follow_up=True)
    first = application.visits.order_by("due_on").first()

    panel = panel_of(client, world.officer, application)

    blocker = blocker_with(panel, workflow.LAST_VISIT_DONE.message)
    assert blocker["links"] == [reverse("visit-form", args=[first.pk])]
    assert panel.primary["href"] == reverse("visit-form", args=[first.pk])


def test_officer_completes_when_the_last_visit_is_recorded(client, world):
    application = world.application(follow_up=True)
    application.visits.update(visited_on=today(), operating=True, equipment_in_use=True, jobs_owner=1)

    panel = panel_of(client, world.officer, application)

    assert panel.primary["step"] == "complete"


def test_officers_reject_is_secondary_and_confirms(client, world):
    application = world.application(submitted=True)
    verified_login(client, world.officer)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert html.count('value="reject"') == 1
    confirm = html[html.index('data-testid="confirm-reject"') :]
    assert 'value="reject"' in confirm[: confirm.index("</details>")]


# ---- the programme manager ---------------------------------------------------------------


def test_manager_approves_a_ready_application(client, world):
    application = world.application(ready=True)

    panel = panel_of(client, world.manager, application)

    assert panel.primary["step"] == "approve"
    assert panel.primary["label"] == str(transitions.APPROVE.button)


def test_manager_sees_what_the_officer_still_owes(client, world):
    application = world.application(training=True)

    panel = panel_of(client, world.manager, application)

    blocker = blocker_with(panel, workflow.ASSESSMENT_RECOMMENDS.message)
    detail = reverse("application-detail", args=[application.pk])
    # The manager does not assess: the link shows the section.
    assert blocker["links"] == [f"{detail}#assessment-title"]
    assert panel.primary is None
    assert "Waiting for the field officer" in panel.waiting


def test_manager_decides_the_duplicate(client, world):
    application = world.application(ready=True)
    DuplicateFlagFactory(applicant=world.person, other=ApplicantFactory(centre=world.centre))

    panel = panel_of(client, world.manager, application)

    assert panel.primary["href"] == reverse("duplicate-list")


def test_manager_of_a_submitted_application_waits_for_the_officer(client, world):
    application = world.application(submitted=True)

    panel = panel_of(client, world.manager, application)

    assert panel.primary is None
    assert str(transitions.ADMIT_TO_TRAINING.waiting) in panel.waiting


def test_cancel_asks_for_confirmation(client, world):
    application = world.application(approved=True)
    verified_login(client, world.manager)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert html.count('value="cancel"') == 1
    assert 'data-testid="confirm-cancel"' in html


# ---- finance -----------------------------------------------------------------------------


def test_finance_confirms_a_complete_delivery(client, world):
    application = world.application(approved=True)
    from .factories import make_full_delivery

    make_full_delivery(application, delivered_on=today())

    panel = panel_of(client, world.finance, application)

    assert panel.primary["step"] == "record_delivery"


def test_finance_is_sent_to_record_the_delivery(client, world):
    application = world.application(approved=True)

    panel = panel_of(client, world.finance, application)

    blocker = blocker_with(panel, workflow.ALL_ITEMS_DELIVERED.message)
    assert blocker["links"] == [reverse("delivery-new", args=[application.pk])]
    assert panel.primary["href"] == reverse("delivery-new", args=[application.pk])


def test_finance_waits_for_the_field_officer_in_training(client, world):
    application = world.application(ready=True)

    panel = panel_of(client, world.finance, application)

    assert panel.primary is None
    assert str(transitions.APPROVE.waiting) in panel.waiting


# ---- ended, and who sees no page ---------------------------------------------------------


@pytest.mark.parametrize("state", [State.COMPLETED, State.REJECTED, State.WITHDRAWN])
def test_an_ended_application_says_so_and_offers_nothing(client, world, state):
    application = world.application(follow_up=True)
    type(application).objects.filter(pk=application.pk).update(state=state)

    for user in (world.officer, world.manager, world.applicant):
        panel = panel_of(client, user, application)
        assert panel.primary is None
        assert panel.blockers == []
        assert panel.waiting == ""
        assert panel.title.strip()


def test_the_auditor_has_no_application_page(client, world):
    application = world.application(ready=True)
    verified_login(client, world.auditor)

    response = client.get(reverse("application-detail", args=[application.pk]))

    assert response.status_code == 404


def test_the_diagram_is_folded_in_a_disclosure(client, world):
    application = world.application(submitted=True)
    verified_login(client, world.officer)

    html = client.get(reverse("application-detail", args=[application.pk])).content.decode()

    assert '<details class="card diagram" data-open-wide>' in html


def test_the_visit_link_names_its_due_date(client, world):
    application = world.application(follow_up=True)
    first = application.visits.order_by("due_on").first()
    first.due_on = datetime.date(2026, 6, 12)
    first.save()

    panel = panel_of(client, world.officer, application)

    assert "12 June 2026" in panel.primary["label"]


def test_the_panel_adds_a_bounded_number_of_queries(client, world, django_assert_max_num_queries):
    application = world.application(training=True)
    make_assessment(application)
    verified_login(client, world.officer)
    client.get(reverse("application-detail", args=[application.pk]))

    with django_assert_max_num_queries(60):
        client.get(reverse("application-detail", args=[application.pk]))
