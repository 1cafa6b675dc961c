"""When the grant contract's conditions apply: a programme asks for each (a signed
contract, the own contribution paid in full, the business registered) before
procurement, before delivery, or not at all (`Programme.contract_rule`,
`contribution_rule`, `registration_rule`).

"Before delivery" is a guard of the record_delivery step (grants.workflow); the
procurement pages ask `unmet_before_procurement` before quotes and purchase orders; a
delivery is refused while any condition asked for is unmet, whenever it was due
(procurement comes before delivery)."""

from core.money import ZERO, cents

from . import workflow as wf
from .models import RuleTiming, contribution_expected

# From the approval on, for as long as the grant runs or has run its course.
CONTRACT_STATES = frozenset({wf.State.APPROVED} | wf.State.DELIVERED_OR_LATER)
CONDITIONS = (
    ("contract_rule", wf.SIGNED_CONTRACT, wf.signed_contract_on_file),
    ("contribution_rule", wf.CONTRIBUTION_PAID, wf.contribution_paid_in_full),
    ("registration_rule", wf.BUSINESS_REGISTERED, wf.business_registered),
)


def _unmet(application, timings):
    programme = application.programme
    return [
        str(rule.message)
        for setting, rule, fact in CONDITIONS
        if getattr(programme, setting) in timings and not fact(application)
    ]


def unmet_before_procurement(application):
    """The sentences of the conditions due before procurement that are not met (empty:
    quotes and purchase orders may go ahead)."""
    return _unmet(application, {RuleTiming.BEFORE_PROCUREMENT})


def unmet_before_delivery(application):
    """The sentences of every condition asked for (before procurement or delivery) that
    is not met (empty: a delivery may be recorded)."""
    return _unmet(application, {RuleTiming.BEFORE_PROCUREMENT, RuleTiming.BEFORE_DELIVERY})


def conditions(application):
    """Each condition the programme asks for: (setting, timing, met?, sentence)."""
    programme = application.programme
    return [
        {
            "code": rule.code,
            "timing": getattr(programme, setting),
            "timing_label": RuleTiming(getattr(programme, setting)).label,
            "met": fact(application),
            "message": str(rule.message),
        }
        for setting, rule, fact in CONDITIONS
        if getattr(programme, setting)
    ]


def summary(application):
    """The contract's state for the application page and the API: the contract (or
    None before it is issued), the own contribution with its payments, the registration
    and the conditions the programme asks for (at most two queries: the contract unless
    read with the application, the payments unless nothing is owed)."""
    # Read with the application where the page asks for it (select_related), else once.
    contract = getattr(application, "contract", None)
    expected = contribution_expected(application)
    # A grant that owes nothing has no payments (a payment is refused above the balance
    # outstanding): the page of such a grant does not ask.
    payments = list(application.contribution_payments.order_by("paid_on", "id")) if expected else []
    reversed_ids = {p.reverses_id for p in payments if p.reverses_id}
    paid = cents(sum((p.amount for p in payments), ZERO))
    return {
        "contract": contract,
        "percent": contract.contribution_percent
        if contract
        else application.programme.own_contribution_percent,
        "expected": expected,
        "paid": paid,
        "outstanding": max(expected - paid, ZERO),
        "due_on": contract.contribution_due_on if contract else None,
        "payments": [
            {
                "payment": p,
                "reversed": p.pk in reversed_ids,
                "reversible": not p.is_reversal and p.pk not in reversed_ids,
            }
            for p in payments
        ],
        "registration_number": application.business_registration_number,
        "registered_on": application.business_registered_on,
        "conditions": conditions(application),
        "unmet_before_procurement": unmet_before_procurement(application),
        "unmet_before_delivery": unmet_before_delivery(application),
    }
