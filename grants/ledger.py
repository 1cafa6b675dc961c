"""The non-cash benefit ledger: what each grant committed and what its equipment cost.

One definition of "committed", shared by the approval guard (`Programme.remaining_budget`),
the budget report and the ledger of one application (docs/reports.md). Its queries are on
the models (`Commitment.objects.still_open`, `DeliveryLine.objects.at_cost`,
`programme_committed`), so that the model's budget rule needs nothing from here:

- a grant that is approved and not yet fully delivered counts at its active commitment
  (the approved amount, committed on approval, released on cancellation);
- a *settled* grant (it reached equipment_delivered, so every item was handed over and the
  signed protocol is on file) counts at its delivered cost: the difference to the approved
  amount goes back to, or comes out of, the programme budget;
- a grant cancelled after a partial delivery counts at the cost of what was delivered:
  money spent on equipment already handed over cannot be released.

Amounts are Decimal throughout; every figure is rounded to the cent only where it is
stored (delivery lines) or shown.
"""

from applicants import roles
from core.money import ZERO, cents

from .models import Commitment, DeliveryLine
from .workflow import State


def application_ledger(application, *, reader=None):
    """The ledger of one grant: its commitments, each delivery line in the programme's
    currency and in EUR, and the variance between what was committed and what the
    equipment actually cost. Four queries (with the re-approvals).

    - `delivered`: Σ line amounts (quantity × actual unit cost), programme currency;
    - `delivered_eur`: Σ line amounts in EUR at each delivery date's rate, as recorded;
    - `delivered_at_estimate`: the same quantities at the unit costs approved;
    - `variance` = delivered − delivered_at_estimate (negative: cheaper than approved);
      once everything is delivered it equals delivered − approved_amount;
    - `still_to_deliver_at_estimate` = approved_amount − delivered_at_estimate;
    - `committed`: what the grant counts for in the programme budget (module docstring).
    """
    commitments = list(application.commitments.order_by("created_at", "id"))
    reapprovals = list(application.cost_reapprovals.order_by("created_at", "id"))
    lines = list(
        DeliveryLine.objects.filter(delivery__application=application)
        .select_related("delivery", "item")
        .order_by("delivery__delivered_on", "delivery_id", "id")
    )
    rows = []
    suppliers = {}
    delivered = delivered_eur = at_estimate = ZERO
    for line in lines:
        estimate = cents(line.item.unit_cost_granted * line.quantity)
        rows.append(
            {
                "delivery": line.delivery_id,
                "delivered_on": line.delivery.delivered_on,
                "supplier": line.delivery.supplier,
                "invoice_number": line.delivery.invoice_number,
                "item": line.item_id,
                "description": line.item.description,
                "quantity": line.quantity,
                "estimated_unit_cost": cents(line.item.unit_cost),
                "approved_unit_cost": cents(line.item.unit_cost_granted),
                "actual_unit_cost": cents(line.actual_unit_cost),
                "amount": cents(line.amount),
                "units_per_eur": line.units_per_eur,
                "amount_eur": cents(line.amount_eur),
                "estimate": estimate,
                "variance": cents(line.amount) - estimate,
                # The asset register's facts (a reallocated line costs nothing here: its
                # cost is counted once, on the grant that bought it).
                "serial_number": line.serial_number,
                "asset_tag": line.asset_tag,
                "reallocated_from": line.reallocated_from_id,
                "book_value": line.book_value,
                "outcome": line.outcome,
                "proceeds": line.proceeds,
                "ownership_passed_on": line.ownership_passed_on,
            }
        )
        delivered += cents(line.amount)
        delivered_eur += cents(line.amount_eur)
        at_estimate += estimate
        supplier = suppliers.setdefault(
            line.delivery.supplier,
            {"supplier": line.delivery.supplier, "delivered": ZERO, "at_approved": ZERO, "variance": ZERO},
        )
        supplier["delivered"] += cents(line.amount)
        supplier["at_approved"] += estimate
        supplier["variance"] += cents(line.amount) - estimate

    active = next((c for c in commitments if c.status == Commitment.Status.ACTIVE), None)
    if application.state in State.AT_COST:
        committed = delivered
    elif active is not None:
        committed = cents(active.amount)
    else:
        committed = ZERO
    approved = cents(application.approved_amount) if application.approved_amount is not None else None
    names = reader is not None and roles.sees_names(reader)
    return {
        "application": application.pk,
        "business_name": application.business_name,
        "state": application.state,
        "programme": application.programme_id,
        # The programme as `reader` may read it (finance: the public label); without a
        # reader, its public label.
        "programme_name": application.programme.label_for(reader)
        if reader is not None
        else application.programme.public_label,
        "currency": application.programme.currency,
        "approved_amount": approved,
        "commitments": [
            {
                "id": c.pk,
                "amount": cents(c.amount),
                "status": c.status,
                "created_at": c.created_at,
                "released_at": c.released_at,
                # The cancellation's comment: free text about a person ("moved abroad"),
                # for readers who see names only.
                "release_reason": c.release_reason if names else "",
            }
            for c in commitments
        ],
        "lines": rows,
        "committed": committed,
        "delivered": delivered,
        "delivered_eur": delivered_eur,
        "delivered_at_estimate": at_estimate,
        "variance": delivered - at_estimate,
        "still_to_deliver_at_estimate": (approved - at_estimate) if approved is not None else None,
        # Delivered against approved, per supplier (the supplier as written on the delivery).
        "by_supplier": sorted(suppliers.values(), key=lambda row: row["supplier"]),
        # What deliveries may cost without a re-approval (docs/design.md, "Cost control"),
        # the ceiling nothing passes, and the re-approvals given.
        "cost_tolerance": application.programme.cost_tolerance,
        "within_tolerance": (
            cents(approved * (1 + application.programme.cost_tolerance)) if approved is not None else None
        ),
        "ceiling": cents(application.programme.ceiling),
        "reapprovals": [
            {
                "id": r.pk,
                "limit": cents(r.limit),
                "created_at": r.created_at,
                "approved_by": r.approved_by_id,
                # Free text about a grant and perhaps a person: as the release reason.
                "reason": r.reason if names else "",
            }
            for r in reapprovals
        ],
    }
