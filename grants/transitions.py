"""The workflow's transitions, each declared once.

A `Step` says everything about a transition that is not the state change itself: where
it goes from and to, the permission it needs, its guards, its labels (the button on the
application page, the arrow of the diagram, the line of the history), who may take it
(the applicant on their own application, staff on the applicant's behalf), whether it
needs a comment (and the sentence asking for it), whether it ends the grant or changes
what is left of the budget. The model's `@transition` methods, the service, the
permission checks, the pages, the API schema, the diagram and the history all read this
table; `docs/architecture.md` says who reads what.

After-transition hooks are registered by the module that owns what they change
(`after(name)`): the budget commitment by `grants.services`, the monitoring visits by
`assessments` when its app is ready, so that `grants` never imports `assessments`.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from . import workflow as wf
from .workflow import State

# The longest comment a step takes (the reason a person is told, a note in the history).
COMMENT_MAX_LENGTH = 4000


@dataclass(frozen=True)
class Step:
    name: str
    source: tuple
    target: str
    permission: str
    button: str
    diagram: str
    history: str
    guards: tuple = ()
    # The applicant takes it on their own application ...
    owner: bool = False
    # ... and a field officer may take it for them: the audit row names the applicant.
    on_behalf: bool = False
    # The sentence that asks for the comment; the step is refused without one.
    comment_required: str | None = None
    # The comment is the closing reason the model keeps (and the applicant is told).
    comment_is_reason: bool = False
    # The step is taken with the outcome of every delivered item (what became of the
    # equipment: grants.services.assets.discontinue_grant); refused while one is missing,
    # like a missing comment (rule `equipment_accounted`), not shown as a blocked guard.
    equipment_outcomes: bool = False
    # The step's method records who took it (the approver).
    records_actor: bool = False
    # The application's path ends with it: the button is shown as dangerous.
    ends: bool = False
    # Changes a programme's committed amount: taken under the programme's row lock.
    budget: bool = False
    # Steps on the way to a completed grant: the sentence the application page's next-step
    # panel shows to everyone who is not the one to take it (casework.next_step).
    waiting: str | None = None
    hooks: dict = field(default_factory=dict, compare=False, repr=False)

    def fsm(self):
        """The keyword arguments of django-fsm's `@transition` (with the model's field)."""
        return {
            "source": list(self.source),
            "target": self.target,
            "permission": self.permission,
            "conditions": list(self.guards),
        }

    def arguments(self, *, by, comment):
        """What the model's method for this step takes."""
        arguments = {}
        if self.records_actor:
            arguments["by"] = by
        if self.comment_is_reason:
            arguments["reason"] = comment
        return arguments

    def run_hooks(self, application, *, by, comment):
        for hook in self.hooks.values():
            hook(application=application, by=by, comment=comment)


SUBMIT = Step(
    "submit",
    source=(State.DRAFT,),
    target=State.SUBMITTED,
    permission="grants.submit_application",
    button=_("Send the application"),
    diagram=_("submit"),
    history=_("Submitted"),
    guards=(
        wf.REQUIRED_FIELDS,
        wf.HAS_ITEMS,
        wf.WITHIN_CEILING,
        wf.CONSENT_GIVEN,
        wf.TARGET_GROUP_ELIGIBLE,
        wf.CALL_OPEN,
    ),
    owner=True,
    on_behalf=True,
    waiting=_("Waiting for the applicant (or their field officer) to send the application."),
)
RETURN_FOR_CHANGES = Step(
    "return_for_changes",
    source=(State.SUBMITTED,),
    target=State.DRAFT,
    permission="grants.return_application",
    button=_("Return for changes"),
    diagram=_("return for changes"),
    history=_("Returned for changes"),
    comment_required=_("Say what the applicant should change."),
)
ADMIT_TO_TRAINING = Step(
    "admit_to_training",
    source=(State.SUBMITTED,),
    target=State.BUSINESS_TRAINING,
    permission="grants.admit_application",
    button=_("Admit to business training"),
    diagram=_("admit to training"),
    history=_("Admitted to training"),
    guards=(wf.ENROLLED,),
    waiting=_("Waiting for a field officer to admit the applicant to business training."),
)
APPROVE = Step(
    "approve",
    source=(State.BUSINESS_TRAINING,),
    target=State.APPROVED,
    permission="grants.approve_application",
    button=_("Approve"),
    diagram=_("approve"),
    history=_("Approved"),
    guards=(
        wf.TRAINING_COMPLETED,
        wf.ASSESSMENT_RECOMMENDS,
        wf.ASSESSMENT_PASSES,
        wf.ONE_GRANT_PER_HOUSEHOLD,
        wf.NO_OPEN_DUPLICATE,
        wf.BUDGET_LEFT,
        wf.CALL_BUDGET_LEFT,
    ),
    records_actor=True,
    budget=True,
    waiting=_("Waiting for the approval by a programme manager."),
)
REJECT = Step(
    "reject",
    source=(State.SUBMITTED, State.BUSINESS_TRAINING),
    target=State.REJECTED,
    permission="grants.reject_application",
    button=_("Reject"),
    diagram=_("reject"),
    history=_("Rejected"),
    comment_required=_("Give the reason for the rejection; the applicant is told."),
    comment_is_reason=True,
    ends=True,
)
WITHDRAW = Step(
    "withdraw",
    source=(State.DRAFT, State.SUBMITTED, State.BUSINESS_TRAINING),
    target=State.WITHDRAWN,
    permission="grants.withdraw_application",
    button=_("Withdraw the application"),
    diagram=_("withdraw"),
    history=_("Withdrawn"),
    owner=True,
    on_behalf=True,
    ends=True,
)
CANCEL = Step(
    "cancel",
    source=(State.APPROVED,),
    target=State.CANCELLED,
    permission="grants.cancel_application",
    button=_("Cancel the grant"),
    diagram=_("cancel"),
    history=_("Cancelled"),
    comment_required=_("Give the reason for the cancellation."),
    comment_is_reason=True,
    ends=True,
    budget=True,
)
RECORD_DELIVERY = Step(
    "record_delivery",
    source=(State.APPROVED,),
    target=State.EQUIPMENT_DELIVERED,
    permission="grants.record_delivery",
    button=_("Confirm equipment delivered"),
    diagram=_("record delivery"),
    history=_("Equipment delivered"),
    guards=(
        wf.SIGNED_CONTRACT,
        wf.CONTRIBUTION_PAID,
        wf.BUSINESS_REGISTERED,
        wf.ALL_ITEMS_DELIVERED,
        wf.HANDOVER_PROTOCOL,
    ),
    budget=True,
    waiting=_("Waiting for finance or a field officer to confirm the delivery of the equipment."),
)
START_FOLLOW_UP = Step(
    "start_follow_up",
    source=(State.EQUIPMENT_DELIVERED,),
    target=State.FOLLOW_UP,
    permission="grants.start_follow_up",
    button=_("Start follow-up visits"),
    diagram=_("start follow-up"),
    history=_("Follow-up started"),
    waiting=_("Waiting for a field officer to start the follow-up visits."),
)
COMPLETE = Step(
    "complete",
    source=(State.FOLLOW_UP,),
    target=State.COMPLETED,
    permission="grants.complete_application",
    button=_("Complete the grant"),
    diagram=_("complete"),
    history=_("Completed"),
    guards=(wf.LAST_VISIT_DONE,),
    waiting=_("Waiting for a field officer to complete the grant."),
)
DISCONTINUE = Step(
    "discontinue",
    source=(State.FOLLOW_UP,),
    target=State.DISCONTINUED,
    permission="grants.discontinue_application",
    button=_("Discontinue"),
    diagram=_("discontinue"),
    history=_("Discontinued"),
    equipment_outcomes=True,
    comment_required=_("Give the reason (for example: the business closed)."),
    comment_is_reason=True,
    ends=True,
)

STEPS = {
    step.name: step
    for step in (
        SUBMIT,
        RETURN_FOR_CHANGES,
        ADMIT_TO_TRAINING,
        APPROVE,
        REJECT,
        WITHDRAW,
        CANCEL,
        RECORD_DELIVERY,
        START_FOLLOW_UP,
        COMPLETE,
        DISCONTINUE,
    )
}
NAMES = list(STEPS)

# The way from a draft to a completed grant, one step from each state on it: what the
# application page offers as the one primary action, and whom everyone else waits for.
MAIN_PATH = (SUBMIT, ADMIT_TO_TRAINING, APPROVE, RECORD_DELIVERY, START_FOLLOW_UP, COMPLETE)
_FORWARD = {source: step for step in MAIN_PATH for source in step.source}


def forward(state):
    """The main path's step out of `state`, or None once the application's path ended."""
    return _FORWARD.get(state)


def step(name):
    """The step called `name`, or None for a name that is not a transition."""
    return STEPS.get(name)


def after(name):
    """Register a function to run after transition `name` is taken, in its transaction,
    before its audit row: `fn(*, application, by, comment)`. Registering the same
    function again (a module imported twice) replaces it."""

    def register(fn):
        STEPS[name].hooks[f"{fn.__module__}.{fn.__qualname__}"] = fn
        return fn

    return register
