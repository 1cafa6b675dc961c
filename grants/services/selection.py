"""Writes of selecting fairly: a programme manager's override of the one-grant-per-
household rule, and an approval of less than was asked (items removed or reduced)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit import trail
from core.errors import Conflict, ServiceError, checked_text, require
from core.money import parse_amount

from .. import households, permissions
from ..models import EquipmentItem, HouseholdOverride
from ..workflow import State
from .applications import locked, take_transition


@transaction.atomic
def record_household_override(*, application, by, reason):
    """Allow `application` to be approved although the same person or household holds a
    grant of its programme. The audit row keeps the grants it overrides."""
    application = locked(application)
    require(permissions.can_override_household(by, application))
    reason = checked_text(reason, HouseholdOverride._meta.get_field("reason"), key="reason")
    if not reason:
        raise ServiceError(
            _("Give the reason for allowing a second grant."),
            code="reason_required",
            details={"reason": [_("Give the reason for allowing a second grant.")]},
        )
    found = households.conflicts(application, states=State.GRANTED)
    try:
        with transaction.atomic():
            override = HouseholdOverride.objects.create(application=application, reason=reason, created_by=by)
    except IntegrityError:
        raise Conflict(_("A second grant is already allowed for this application.")) from None
    trail.record(
        action="household_override",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=reason,
        data={"grants": [[pk, reason_code] for pk, reason_code in found]},
    )
    return override


def _refused(message, code):
    return ServiceError(message, code=code, details={"items": [message]})


def _granted(item, values):
    """(quantity, unit cost) granted for `item` from the approver's `values`, checked."""
    quantity, unit_cost = values
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = -1
    if quantity < 0:
        raise _refused(_("Approved quantities are whole numbers from 0."), "invalid")
    unit_cost = parse_amount(unit_cost, "items")
    if quantity > item.quantity or unit_cost > item.unit_cost:
        raise _refused(
            _("“%(item)s”: an approval cannot grant more than was asked (%(quantity)s × %(cost)s).")
            % {"item": item.description, "quantity": item.quantity, "cost": item.unit_cost},
            "above_request",
        )
    return quantity, unit_cost


@transaction.atomic
def approve_reduced(*, application, by, items, reason=""):
    """Approve `application` for less than was asked, or as asked: `items` maps an item's
    id to the (quantity, unit cost) granted for it; a quantity of 0 removes the item, an
    item left out is granted as asked. Nothing is granted above the request, and a
    reduction needs a reason (the approval's comment: the applicant is told). The
    approved amount, the budget rule and the commitment read the granted values; the
    approval's audit row keeps each item's request and grant. The four-eyes rules are
    the approval's own (`take_transition`)."""
    application = locked(application)
    require(permissions.can_transition(by, application, "approve"))
    current = {item.pk: item for item in application.items.order_by("position", "pk")}
    if set(items) - set(current):
        raise _refused(_("Approve only items of this application."), "unknown_item")
    before, after, reduced = [], [], False
    for pk, item in current.items():
        quantity, unit_cost = _granted(item, items.get(pk, (item.quantity, item.unit_cost)))
        reduced = reduced or quantity < item.quantity or unit_cost < item.unit_cost
        before.append([pk, item.quantity, str(item.unit_cost)])
        after.append([pk, quantity, str(unit_cost)])
        item.approved_quantity, item.approved_unit_cost = quantity, unit_cost
    granted = sum((item.approved_total for item in current.values()), start=0)
    if not granted:
        raise _refused(_("Approve at least one item; to refuse the grant, reject it."), "nothing_approved")
    reason = (reason or "").strip()
    if reduced and not reason:
        raise ServiceError(
            _("Say why less is approved than was asked; the applicant is told."),
            code="reason_required",
            details={"comment": [_("Say why less is approved than was asked; the applicant is told.")]},
        )
    EquipmentItem.objects.bulk_update(current.values(), ["approved_quantity", "approved_unit_cost"])
    data = None
    if reduced:
        data = {
            "before": {"items": before, "total": str(application.compute_requested_total())},
            "after": {"items": after, "total": str(granted)},
        }
    return take_transition(application=application, name="approve", by=by, comment=reason, data=data)
