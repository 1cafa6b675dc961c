"""The asset register's writes: ownership passing on completion, and what becomes of
each delivered item when a business closes (discontinue), reallocation included.

Counted once: a reallocated item's cost stays with the grant that bought it; the line
created on the receiving grant costs nothing there (amount 0) and carries the book value
(docs/reports.md, "Asset register")."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.errors import Conflict, ServiceError, require
from core.money import parse_amount

from .. import permissions, transitions
from ..models import Delivery, DeliveryLine, EquipmentItem, EquipmentOutcome, GrantApplication
from ..workflow import State
from .applications import locked, take_transition


@transitions.after("complete")
def _ownership_passes(*, application, by, comment):
    """At the end of the monitoring period the equipment becomes the beneficiary's."""
    DeliveryLine.objects.filter(delivery__application=application, outcome="").update(
        ownership_passed_on=timezone.localdate()
    )


def _refuse(message, line=None):
    key = "equipment" if line is None else f"equipment.{line}"
    raise ServiceError(message, code="equipment_outcome", details={key: [message]})


@transaction.atomic
def discontinue_grant(*, application, by, comment, outcomes):
    """Take `discontinue` with the outcome of every delivered item: `outcomes` is a list
    of {"line", "outcome", "proceeds" (sold), "to_item" (reallocated: an item still due
    of another approved grant of the same programme)}. A reallocation creates a delivery
    on the receiving grant, at book value, costing nothing there. All or nothing."""
    application = locked(application)
    require(permissions.can_transition(by, application, "discontinue"))
    if application.state != State.FOLLOW_UP:
        raise Conflict(
            _("This application is now “%(state)s”; this step is no longer possible.")
            % {"state": application.get_state_display()},
            code="wrong_state",
        )
    lines = {
        line.pk: line
        for line in DeliveryLine.objects.filter(delivery__application=application, outcome="").select_related(
            "delivery"
        )
    }
    given = {}
    for row in outcomes or []:
        try:
            pk = int(row.get("line"))
        except (TypeError, ValueError):
            pk = None
        if pk not in lines:
            _refuse(_("An outcome names an item that was not delivered to this grant."))
        if pk in given:
            _refuse(_("Give one outcome per delivered item."), pk)
        given[pk] = row
    missing = [line for pk, line in lines.items() if pk not in given]
    if missing:
        _refuse(
            _(
                "Say what became of each delivered item: recovered, reallocated to another grant, sold or lost."
            )
        )
    today = timezone.localdate()
    recorded = []
    for pk, row in given.items():
        recorded.append(_record_outcome(application, lines[pk], row, by=by, on=today))
    trail.record(
        action="equipment_outcomes_recorded",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={"outcomes": recorded},
    )
    return take_transition(application=application, name="discontinue", by=by, comment=comment)


def _record_outcome(application, line, row, *, by, on):
    outcome = row.get("outcome")
    if outcome not in EquipmentOutcome.values:
        _refuse(_("Choose an outcome for each item: recovered, reallocated, sold or lost."), line.pk)
    line.outcome, line.outcome_on = outcome, on
    entry = {"line": line.pk, "outcome": outcome}
    if outcome == EquipmentOutcome.SOLD:
        if row.get("proceeds") in (None, ""):
            _refuse(_("Give the proceeds of the sale."), line.pk)
        line.proceeds = parse_amount(row.get("proceeds"), f"equipment.{line.pk}")
        entry["proceeds"] = str(line.proceeds)
    if outcome == EquipmentOutcome.REALLOCATED:
        received = _reallocate(application, line, row.get("to_item"), by=by, on=on)
        entry.update({"to_application": received.delivery.application_id, "to_line": received.pk})
    line.save(update_fields=["outcome", "outcome_on", "proceeds"])
    return entry


def _reallocate(application, line, to_item, *, by, on):
    """Hand `line`'s equipment to an item still due of another approved grant of the
    same programme: a delivery there at book value (amount 0: the cost stays here)."""
    try:
        item_pk = int(to_item)
    except (TypeError, ValueError):
        _refuse(_("Choose the item of the approved grant that receives the equipment."), line.pk)
    item = EquipmentItem.objects.filter(pk=item_pk).select_related("application").first()
    if item is None or item.application_id == application.pk:
        _refuse(_("Choose the item of the approved grant that receives the equipment."), line.pk)
    target = GrantApplication.objects.select_for_update(of=("self",), no_key=True).get(pk=item.application_id)
    if target.programme_id != application.programme_id or target.state != State.APPROVED:
        _refuse(_("Equipment is reallocated to an approved grant of the same programme only."), line.pk)
    if not permissions.can_view_application(by, target):
        _refuse(_("Choose the item of the approved grant that receives the equipment."), line.pk)
    item = target.items.with_delivered().get(pk=item.pk)
    if line.quantity > item.quantity_due:
        _refuse(
            _("Item “%(item)s” of grant %(grant)s has %(due)s still to deliver.")
            % {"item": item.description, "grant": target.pk, "due": item.quantity_due},
            line.pk,
        )
    delivery = Delivery.objects.create(
        application=target,
        delivered_on=on,
        supplier=line.delivery.supplier,
        invoice_number=f"REALLOC-{line.pk}",
        recorded_by=by,
    )
    received = DeliveryLine.objects.create(
        delivery=delivery,
        item=item,
        quantity=line.quantity,
        actual_unit_cost=0,
        amount=0,
        units_per_eur=line.units_per_eur,
        amount_eur=0,
        serial_number=line.serial_number,
        asset_tag=line.asset_tag,
        reallocated_from=line,
        book_value=line.value,
    )
    trail.record(
        action="equipment_reallocated",
        actor=by,
        application=target,
        from_state=target.state,
        to_state=target.state,
        data={
            "delivery": delivery.pk,
            "line": received.pk,
            "from_line": line.pk,
            "book_value": str(line.value),
        },
    )
    return received
