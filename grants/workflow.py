"""The rules of the workflow, each with the sentence a field officer reads when it fails.

The transition table (grants.transitions) lists these as each step's guards, which
django-fsm checks as `conditions`; the service asks `unmet_rules` first so that a refusal
names every rule that is not met.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Exists, OuterRef
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from applicants.consent import GENERAL, has_consent
from applicants.models import ConsentRecord, DuplicateFlag

from . import households


class State:
    DRAFT = "draft"
    SUBMITTED = "submitted"
    BUSINESS_TRAINING = "business_training"
    APPROVED = "approved"
    EQUIPMENT_DELIVERED = "equipment_delivered"
    FOLLOW_UP = "follow_up"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CANCELLED = "cancelled"
    DISCONTINUED = "discontinued"

    CHOICES = [
        (DRAFT, _("Draft")),
        (SUBMITTED, _("Submitted")),
        (BUSINESS_TRAINING, _("Business training")),
        (APPROVED, _("Approved")),
        (EQUIPMENT_DELIVERED, _("Equipment delivered")),
        (FOLLOW_UP, _("Follow-up")),
        (COMPLETED, _("Completed")),
        (REJECTED, _("Rejected")),
        (WITHDRAWN, _("Withdrawn")),
        (CANCELLED, _("Cancelled")),
        (DISCONTINUED, _("Discontinued")),
    ]
    ENDS = {COMPLETED, REJECTED, WITHDRAWN, CANCELLED, DISCONTINUED}
    # States in which the grant reached the beneficiary (counted as "supported").
    DELIVERED_OR_LATER = {EQUIPMENT_DELIVERED, FOLLOW_UP, COMPLETED, DISCONTINUED}
    # States in which a grant counts in its programme's budget at the cost of what was
    # delivered to it (settled, or cancelled after a partial delivery): grants.ledger.
    AT_COST = frozenset(DELIVERED_OR_LATER | {CANCELLED})
    # An active grant: approved or later, not cancelled (one per person and household in
    # a programme: grants.households).
    GRANTED = frozenset({APPROVED} | DELIVERED_OR_LATER)


class Rule:
    """A guard: callable on the application like any django-fsm condition, with a message."""

    def __init__(self, code, message, check=None, explain=None):
        self.code = code
        self.message = message
        # None for a rule about facts another app holds: that app provides the check
        # when it is ready (`checked_by`), so grants does not import it.
        self.check = check
        # Optional: a sentence about this application (which criterion is missing ...).
        self.explain = explain
        self.__name__ = code

    def checked_by(self, check):
        """Provide the check of a rule declared here without one (a decorator)."""
        self.check = check
        return check

    def __call__(self, application):
        if self.check is None:
            raise ImproperlyConfigured(f"No app provides the check of the workflow rule {self.code}.")
        return bool(self.check(application))

    def message_for(self, application):
        return self.explain(application) if self.explain else self.message

    def __repr__(self):
        return f"Rule({self.code})"


# The plan's fields a draft needs before it is sent, in the order of the form.
REQUIRED_PLAN_FIELDS = (
    "business_name",
    "sector",
    "activity",
    "market",
    "expected_monthly_revenue",
    "expected_monthly_costs",
)


def _filled(value):
    return value is not None and (str(value).strip() if isinstance(value, str) else True)


def missing_required_fields(app):
    """The required plan fields the draft leaves empty (the next-step panel links each)."""
    return [name for name in REQUIRED_PLAN_FIELDS if not _filled(getattr(app, name))]


def _required_fields(app):
    return not missing_required_fields(app)


def _has_items(app):
    return app.items.exists()


def _within_ceiling(app):
    return app.compute_requested_total() <= app.programme.ceiling


def _people(app):
    """The applicant and, for a cooperative, each member: whose consent and target group
    the submission checks (one query for the members, with their consent)."""
    people = [app.applicant]
    if app.is_cooperative:
        people += list(
            app.members.annotate(
                has_consent=Exists(
                    ConsentRecord.objects.filter(
                        applicant=OuterRef("pk"), purpose=GENERAL, withdrawn_at__isnull=True
                    )
                )
            ).order_by("last_name", "first_name", "pk")
        )
    return people


def _without_consent(app):
    people = _people(app)
    if not has_consent(app.applicant, GENERAL):
        people[0].has_consent = False
    return [p for p in people if getattr(p, "has_consent", True) is False]


def _ineligible(app):
    if app.institution_id is not None:
        # An institution is in no target group: eligible where its programme takes
        # institutions (the setting may have changed since the draft was made).
        return [] if app.programme.allows_institutions else [app.applicant]
    eligible = set(app.programme.target_groups)
    return [p for p in _people(app) if not set(p.target_groups) & eligible]


def _consent_given(app):
    return not _without_consent(app)


def _target_group_eligible(app):
    return not _ineligible(app)


def _names(people):
    return ", ".join(p.full_name for p in people)


def _explain_consent(app):
    missing = _without_consent(app)
    if [p.pk for p in missing] == [app.applicant_id]:
        return CONSENT_GIVEN.message
    return _("No consent to the use of their data from: %(names)s.") % {"names": _names(missing)}


def _explain_target_group(app):
    if app.institution_id is not None:
        return _("This programme does not take institutions as grantees.")
    missing = _ineligible(app)
    if [p.pk for p in missing] == [app.applicant_id]:
        return TARGET_GROUP_ELIGIBLE.message
    return _("Not in a target group of this programme: %(names)s.") % {"names": _names(missing)}


def _call_open(app):
    """Its call is open, or it was returned for changes and the call still takes
    revisions (until its revision deadline, even after it closed)."""
    call = app.call
    return call.is_open() or (app.returned_at is not None and call.accepts_revision())


def _explain_call(app):
    if app.returned_at is not None:
        return _("The call's deadline for sending a returned application again (%(day)s) has passed.") % {
            "day": formats.date_format(app.call.last_revision_day)
        }
    return _("The programme's call for applications is not open.")


def _enrolled(app):
    return app.enrolments.filter(active=True).exists()


def _assessment_recommends(app):
    assessment = app.current_assessment()
    return assessment is not None and assessment.recommendation == "approve"


def passes_mark(score, pass_mark):
    """The pass-mark rule, one definition: the approve guard asks it of the score computed
    now, the approvals queue of the score stored with a complete assessment. None (a
    score missing) never passes."""
    return score is not None and score >= pass_mark


def _assessment_passes(app):
    # Computed from the rubric as it is now: a criterion added since the assessment
    # counts as missing.
    assessment = app.current_assessment()
    if assessment is None:
        return False
    return passes_mark(assessment.compute_weighted_score(), app.programme.pass_mark)


def _criterion_label(criterion):
    """The programme's own label; the standard criteria's default labels in the reader's
    language."""
    codes = type(criterion).Code
    if criterion.criterion not in codes.values:
        return criterion.label
    standard = codes(criterion.criterion).label
    with translation.override("en"):
        is_default = criterion.label == str(standard)
    return str(standard) if is_default else criterion.label


def _explain_assessment(app):
    assessment = app.current_assessment()
    if assessment is None:
        return _("There is no assessment yet.")
    scored = set(assessment.scores.values_list("criterion_id", flat=True))
    missing = [_criterion_label(c) for c in app.programme.rubric.all() if c.pk not in scored]
    if missing:
        return ngettext(
            "A score is missing for the criterion “%(names)s”.",
            "Scores are missing for the criteria “%(names)s”.",
            len(missing),
        ) % {"names": "”, “".join(missing)}
    return _("The assessment's weighted score %(score)s is below the programme's pass mark %(mark)s.") % {
        "score": assessment.compute_weighted_score(),
        "mark": app.programme.pass_mark,
    }


def has_open_duplicate(app):
    """A possible duplicate of the applicant is still to decide (the application page
    shows it; the approval waits for it)."""
    return app.remembered(
        "open_duplicate", lambda: DuplicateFlag.objects.open_about(app.applicant_id).exists()
    )


def _no_open_duplicate(app):
    return not has_open_duplicate(app)


def _budget_left(app):
    # What the approval grants (less than asked after a reduced approval).
    return app.programme.remaining_budget() >= app.compute_granted_total()


def household_conflicts(app):
    """The programme's active grants held by the same person or household (read once on a
    page that remembers its reads)."""
    return app.remembered("household_conflicts", lambda: households.conflicts(app, states=State.GRANTED))


def _one_grant_per_household(app):
    return households.is_overridden(app) or not household_conflicts(app)


def _explain_household(app):
    return _(
        "The same person or household already holds a grant of this programme: %(grants)s. "
        "A programme manager may allow it with a reason."
    ) % {"grants": households.describe(household_conflicts(app))}


def _call_budget_left(app):
    return app.call.remaining_budget() >= app.compute_requested_total()


def _all_items_delivered(app):
    return app.undelivered_items() == []


def _handover_protocol(app):
    # Each delivery (and so each delivered line) covered by a protocol uploaded after it.
    deliveries = app.deliveries.all()
    return deliveries.exists() and not deliveries.without_protocol().exists()


def _equipment_accounted(app):
    # Every item delivered to the grant has its outcome recorded (before the step).
    return not app.deliveries.filter(lines__isnull=False, lines__outcome="").exists()


# The grant contract's conditions (grants.contracts): the fact, then the rule, which a
# programme that does not ask for the condition always meets.


def signed_contract_on_file(app):
    contract = getattr(app, "contract", None)
    return contract is not None and contract.is_signed


def contribution_paid_in_full(app):
    return app.contribution_outstanding() == 0


def business_registered(app):
    return bool(app.business_registration_number) and app.business_registered_on is not None


def _asked(setting, fact):
    def check(app):
        return not getattr(app.programme, setting) or fact(app)

    return check


def _last_visit_done(app):
    # From all of them (a handful): the application page has them prefetched already.
    visits = list(app.visits.all())
    if not visits:
        return False
    return max(visits, key=lambda visit: visit.months).visited_on is not None


REQUIRED_FIELDS = Rule(
    "required_fields",
    _("Fill in the business name, sector, activity, market and expected revenue and costs."),
    _required_fields,
)
HAS_ITEMS = Rule("has_items", _("Add at least one equipment item."), _has_items)
WITHIN_CEILING = Rule(
    "within_ceiling",
    _("The requested total is above the programme's ceiling per grant."),
    _within_ceiling,
)
# For a cooperative, each member's own consent and target group too; the sentence names
# whoever is missing.
CONSENT_GIVEN = Rule(
    "consent_given",
    _("The applicant has not given consent to the use of their data."),
    _consent_given,
    explain=_explain_consent,
)
TARGET_GROUP_ELIGIBLE = Rule(
    "target_group_eligible",
    _("The applicant's target group is not eligible for this programme."),
    _target_group_eligible,
    explain=_explain_target_group,
)
CALL_OPEN = Rule(
    "call_open", _("The programme's call for applications is not open."), _call_open, explain=_explain_call
)
ENROLLED = Rule("enrolled", _("Enrol the applicant in a business-training cohort first."), _enrolled)
# Training facts are assessments': it provides the check (assessments.selectors).
TRAINING_COMPLETED = Rule(
    "training_completed",
    _("The business training is not completed (attendance below the programme's threshold)."),
)
ASSESSMENT_RECOMMENDS = Rule(
    "assessment_recommends",
    _("There is no assessment recommending approval."),
    _assessment_recommends,
)
ASSESSMENT_PASSES = Rule(
    "assessment_passes",
    _("The assessment's weighted score is below the programme's pass mark, or a score is missing."),
    _assessment_passes,
    explain=_explain_assessment,
)
NO_OPEN_DUPLICATE = Rule(
    "no_open_duplicate",
    _(
        "The applicant may be registered twice: a possible duplicate is still to decide. "
        "The grant can be approved once a field officer or programme manager has decided it."
    ),
    _no_open_duplicate,
)
BUDGET_LEFT = Rule(
    "budget_left",
    _("The programme budget is exhausted: not enough is left for this grant."),
    _budget_left,
)
ONE_GRANT_PER_HOUSEHOLD = Rule(
    "one_grant_per_household",
    _("The same person or household already holds a grant of this programme."),
    _one_grant_per_household,
    explain=_explain_household,
)
CALL_BUDGET_LEFT = Rule(
    "call_budget_left",
    _("The call's share of the budget is exhausted: not enough is left for this grant."),
    _call_budget_left,
)
ALL_ITEMS_DELIVERED = Rule(
    "all_items_delivered",
    _("Not every approved equipment item has been delivered."),
    _all_items_delivered,
)
HANDOVER_PROTOCOL = Rule(
    "handover_protocol",
    _(
        "Upload the handover protocol signed by the beneficiary after the delivery: every "
        "delivery needs one uploaded after it was recorded."
    ),
    _handover_protocol,
)
SIGNED_CONTRACT = Rule(
    "signed_contract",
    _("Upload the grant contract signed by the beneficiary."),
    _asked("contract_rule", signed_contract_on_file),
)
CONTRIBUTION_PAID = Rule(
    "contribution_paid",
    _("The beneficiary's own contribution is not paid in full."),
    _asked("contribution_rule", contribution_paid_in_full),
)
BUSINESS_REGISTERED = Rule(
    "business_registered",
    _("Record the business's registration number and date."),
    _asked("registration_rule", business_registered),
)
EQUIPMENT_ACCOUNTED = Rule(
    "equipment_accounted",
    _("Say what became of each delivered item: recovered, reallocated to another grant, sold or lost."),
    _equipment_accounted,
)
LAST_VISIT_DONE = Rule(
    "last_visit_done", _("The 12-month monitoring visit has not been recorded."), _last_visit_done
)


def today():
    return timezone.localdate()
