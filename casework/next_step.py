"""The next-step panel at the top of the application page: the state in plain words,
every unmet rule of the main path's next step as its own sentence with a link to what
fixes it, the one primary action this user can take now, and whom everyone else waits for.

It reads the transition table (`grants.transitions.forward`, each step's `waiting`), the
rules' own sentences (`grants.services.unmet_rules`) and what the page already knows this
user may do (the page context: `can_enrol`, `can_assess`, ...), so that the panel offers
only what the page below offers too. The template only prints the result.
"""

from dataclasses import dataclass, field, replace

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from applicants import roles
from grants import permissions, services, transitions, workflow
from grants.forms import ApplicationForm
from grants.models import DocumentKind
from grants.workflow import State

from .applications import NEXT_STEP

# The state in plain words: the panel's heading.
STATE_TITLES = {
    State.DRAFT: _("A draft: the application has not been sent yet."),
    State.SUBMITTED: _("The application has been sent."),
    State.BUSINESS_TRAINING: _("The applicant is in business training."),
    State.APPROVED: _("The grant is approved: the equipment is to be bought and handed over."),
    State.EQUIPMENT_DELIVERED: _("The equipment has been handed over."),
    State.FOLLOW_UP: _("The business is visited during its first year."),
    State.COMPLETED: _("The grant is completed."),
    State.REJECTED: _("The application was not approved."),
    State.WITHDRAWN: _("The application was withdrawn."),
    State.CANCELLED: _("The grant was cancelled."),
    State.DISCONTINUED: _("The grant was closed before its end."),
}

# Whom a rule waits for when this user cannot meet it themselves.
_WAITING_FOR_ROLE = {
    roles.APPLICANT: _("Waiting for the applicant (or their field officer) to complete the application."),
    roles.FIELD_OFFICER: _("Waiting for the field officer to meet the rules above."),
    roles.PROGRAMME_MANAGER: _("Waiting for a programme manager to meet the rules above."),
    roles.FINANCE_OFFICER: _("Waiting for finance or a field officer to meet the rules above."),
}
_RULE_ROLE = {
    "required_fields": roles.APPLICANT,
    "has_items": roles.APPLICANT,
    "within_ceiling": roles.APPLICANT,
    "consent_given": roles.FIELD_OFFICER,
    "target_group_eligible": roles.FIELD_OFFICER,
    "call_open": roles.PROGRAMME_MANAGER,
    "enrolled": roles.FIELD_OFFICER,
    "training_completed": roles.FIELD_OFFICER,
    "assessment_recommends": roles.FIELD_OFFICER,
    "assessment_passes": roles.FIELD_OFFICER,
    "no_open_duplicate": roles.FIELD_OFFICER,
    "one_grant_per_household": roles.PROGRAMME_MANAGER,
    "budget_left": roles.PROGRAMME_MANAGER,
    "call_budget_left": roles.PROGRAMME_MANAGER,
    "signed_contract": roles.FINANCE_OFFICER,
    "contribution_paid": roles.FINANCE_OFFICER,
    "business_registered": roles.FIELD_OFFICER,
    "all_items_delivered": roles.FINANCE_OFFICER,
    "handover_protocol": roles.FINANCE_OFFICER,
    "last_visit_done": roles.FIELD_OFFICER,
}


@dataclass(frozen=True)
class Blocker:
    """An unmet rule: its sentence, and the link to where it is met (`fix` is the link's
    text when this user can meet it there, else the link only shows the page's section)."""

    text: str
    href: str
    link: str
    fix: bool = False


@dataclass(frozen=True)
class Action:
    label: str
    # A workflow step (a button posting to the step view) or a link.
    step: str = ""
    href: str = ""


@dataclass(frozen=True)
class NextStep:
    title: str
    explanation: str = ""
    blockers: list = field(default_factory=list)
    primary: Action | None = None
    waiting: list = field(default_factory=list)

    @property
    def ended(self):
        return not (self.blockers or self.primary or self.waiting)


def next_step(application, user, page):
    """The panel for `user` on `application`, from the application page's context `page`
    (its `transitions` rows and what the user may do on the page)."""
    own_view = page.get("own_view", False)
    title = STATE_TITLES.get(application.state, application.get_state_display())
    explanation = str(NEXT_STEP.get(application.state, "")) if own_view else ""
    step = transitions.forward(application.state)
    if step is None:
        return NextStep(title=title, explanation=explanation)
    row = next((row for row in page.get("transitions", ()) if row["name"] == step.name), None)
    if row is not None and row["allowed"]:
        return NextStep(
            title=title, explanation=explanation, primary=Action(str(step.button), step=step.name)
        )
    may_take = permissions.can_transition(user, application, step.name).allowed
    unmet = services.unmet_rules(application, step.name)
    if own_view and application.state != State.DRAFT:
        # The applicant meets none of the staff's rules: they are told whom they wait for.
        return NextStep(title=title, explanation=explanation, waiting=[str(step.waiting)])
    blockers, waiting = [], []
    for code, message in unmet:
        found = _blockers(code, message, application, user, page)
        blockers.extend(found)
        sentence = str(_WAITING_FOR_ROLE[_RULE_ROLE.get(code, roles.FIELD_OFFICER)])
        if not any(b.fix for b in found) and sentence not in waiting:
            waiting.append(sentence)
    if not may_take:
        waiting.append(str(step.waiting))
    blockers = _merged(blockers)
    primary = next((Action(b.link, href=b.href) for b in blockers if b.fix), None)
    return NextStep(title=title, explanation=explanation, blockers=blockers, primary=primary, waiting=waiting)


def _merged(blockers):
    """Rules met in the same place (no assessment: neither a recommendation nor a score)
    are one blocker with both sentences and one link."""
    merged = {}
    for blocker in blockers:
        key = (blocker.href, blocker.link)
        if key in merged:
            merged[key] = replace(merged[key], text=f"{merged[key].text} {blocker.text}")
        else:
            merged[key] = blocker
    return list(merged.values())


def _page(application, anchor):
    return f"{reverse('application-detail', args=[application.pk])}#{anchor}"


def _blockers(code, message, application, user, page):
    """The blocker(s) of one unmet rule: the draft's missing fields are one each."""
    edit = reverse("application-edit", args=[application.pk])
    can_edit = page.get("can_edit", False)
    if code == "required_fields":
        fields = ApplicationForm.base_fields
        return [
            Blocker(
                _("“%(field)s” is not filled in.") % {"field": fields[name].label},
                f"{edit}#id_{name}" if can_edit else _page(application, "plan-title"),
                _("Fill in “%(field)s”") % {"field": fields[name].label},
                fix=can_edit,
            )
            for name in workflow.missing_required_fields(application)
        ]
    href, link, fix = _fix(code, application, user, page, edit, can_edit)
    return [Blocker(str(message), href, str(link), fix)]


def _fix(code, application, user, page, edit, can_edit):
    """(href, link text, whether this user meets the rule there) for a rule."""
    if code in ("has_items", "within_ceiling"):
        return (edit if can_edit else _page(application, "items-title"), _("Change the equipment"), can_edit)
    if code in ("consent_given", "target_group_eligible", "call_open"):
        return (_page(application, "plan-title"), _("See the application"), False)
    if code == "enrolled":
        if page.get("can_enrol") and page.get("cohorts"):
            return (_page(application, "enrol-cohort"), _("Enrol in a course"), True)
        if page.get("can_enrol"):
            return (reverse("cohort-new"), _("Create a training course"), True)
        return (_page(application, "training-title"), _("See the training"), False)
    if code == "training_completed":
        enrolment = page.get("enrolment")
        if enrolment is not None and roles.has_role(user, roles.FIELD_OFFICER):
            href = f"{reverse('cohort-detail', args=[enrolment.cohort_id])}#sheet-title"
            return (href, _("Record the attendance"), True)
        return (_page(application, "training-title"), _("See the training"), False)
    if code in ("assessment_recommends", "assessment_passes"):
        if page.get("can_assess"):
            return (reverse("assessment-form", args=[application.pk]), _("Assess the application"), True)
        return (_page(application, "assessment-title"), _("See the assessment"), False)
    if code == "no_open_duplicate":
        if user.has_perm("applicants.decide_duplicate"):
            return (reverse("duplicate-list"), _("Decide the possible duplicate"), True)
        return (_page(application, "next-step-title"), _("A person decides it first"), False)
    if code == "one_grant_per_household":
        return (
            _page(application, "household-title"),
            _("See the other grant"),
            bool(page.get("household_form")),
        )
    if code in ("budget_left", "call_budget_left"):
        return (_page(application, "items-title"), _("See the equipment"), False)
    if code == "signed_contract":
        return (
            _page(application, "contract-title"),
            _("Upload the signed contract"),
            bool(page.get("can_upload_contract")),
        )
    if code == "contribution_paid":
        return (
            _page(application, "contract-title"),
            _("Record the payment"),
            bool(page.get("can_record_payment")),
        )
    if code == "business_registered":
        return (
            _page(application, "contract-title"),
            _("Record the registration"),
            bool(page.get("registration_form")),
        )
    if code == "all_items_delivered":
        if page.get("can_deliver"):
            return (reverse("delivery-new", args=[application.pk]), _("Record a delivery"), True)
        return (_page(application, "deliveries-title"), _("See the deliveries"), False)
    if code == "handover_protocol":
        if DocumentKind.HANDOVER_PROTOCOL in page.get("upload_kinds", ()):
            detail = reverse("application-detail", args=[application.pk])
            href = f"{detail}?upload={DocumentKind.HANDOVER_PROTOCOL}#id_kind"
            return (href, _("Upload the signed handover protocol"), True)
        return (_page(application, "deliveries-title"), _("See the deliveries"), False)
    if code == "last_visit_done":
        due = next((visit for visit in page.get("visits", ()) if visit.visited_on is None), None)
        if due is not None and page.get("can_record_visit"):
            link = _("Record the visit due on %(day)s") % {"day": formats.date_format(due.due_on)}
            return (reverse("visit-form", args=[due.pk]), link, True)
        return (_page(application, "visits-title"), _("See the visits"), False)
    return (_page(application, "steps-title"), _("See what can be done"), False)
