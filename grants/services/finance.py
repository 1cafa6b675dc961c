"""Money writes: exchange rates and deliveries (partial or whole) of approved grants."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.errors import (
    Conflict,
    ServiceError,
    checked_text,
    require,
)
from core.money import CENT, cents, parse_amount

from .. import contracts, permissions
from ..models import (
    CostReapproval,
    Delivery,
    DeliveryLine,
    ExchangeRate,
    PurchaseOrder,
)
from ..workflow import State
from .applications import locked, take_transition, unmet_rules


def eur_rate(currency, on):
    """Units of `currency` per euro on the latest published day not after `on`."""
    if currency == "EUR":
        return Decimal("1")
    rate = ExchangeRate.objects.filter(currency=currency, date__lte=on).order_by("-date").first()
    if rate is None:
        raise ServiceError(
            _("No exchange rate for %(currency)s on or before %(date)s; load the rates first.")
            % {"currency": currency, "date": on.isoformat()},
            code="no_rate",
        )
    return rate.units_per_eur


@transaction.atomic
def load_exchange_rates(*, rows, by=None, source=""):
    """Save (currency, date, units per euro) rows, replacing a rate already held for that
    day. Rates turn local prices into euros for every delivery recorded after them, so
    one audit event keeps each rate added or replaced with the value it replaced; rows
    that repeat a rate already held write nothing. Returns (added, replaced)."""
    held = {
        (rate.currency, rate.date): rate
        for rate in ExchangeRate.objects.select_for_update().filter(
            currency__in={currency for currency, _day, _rate in rows},
            date__in={day for _currency, day, _rate in rows},
        )
    }
    changed = []
    for currency, day, units in rows:
        rate = held.get((currency, day))
        if rate is not None and rate.units_per_eur == units:
            continue
        changed.append(
            {
                "currency": currency,
                "date": day.isoformat(),
                "before": None if rate is None else str(rate.units_per_eur),
                "after": str(units),
            }
        )
        if rate is None:
            ExchangeRate.objects.create(currency=currency, date=day, units_per_eur=units)
        else:
            rate.units_per_eur = units
            rate.save(update_fields=["units_per_eur"])
    if changed:
        trail.record(action="exchange_rates_loaded", actor=by, data={"source": source, "rates": changed})
    added = sum(1 for change in changed if change["before"] is None)
    return added, len(changed) - added


@transaction.atomic
def record_delivery_lines(
    *, application, by, delivered_on, supplier="", invoice_number, lines, purchase_order=None
):
    """Record one (possibly partial) delivery. When the last item is handed over and the
    signed handover protocol is on file, the application moves to equipment_delivered.

    When the programme requires purchase orders, the delivery names an approved order of
    the grant, its items are that order's, and the supplier is the order's."""
    application = locked(application)
    require(permissions.can_record_delivery_lines(by, application))
    if application.state != State.APPROVED:
        raise Conflict(_("Deliveries are recorded for approved grants only."), code="wrong_state")
    unmet = contracts.unmet_before_delivery(application)
    if unmet:
        raise Conflict(
            _("The grant contract's conditions are not met: %(conditions)s")
            % {"conditions": " ".join(unmet)},
            code="contract_conditions",
        )
    ordered_items = None
    if purchase_order is not None or application.programme.requires_purchase_orders:
        order = _approved_order(application, purchase_order)
        supplier = order.supplier.name
        ordered_items = set(order.quotes.values_list("item_id", flat=True))
    if delivered_on > timezone.localdate():
        raise ServiceError(
            _("A delivery cannot be dated in the future."),
            details={"delivered_on": [_("A delivery cannot be dated in the future.")]},
        )
    if not str(supplier).strip() or not str(invoice_number).strip():
        raise ServiceError(
            _("Give the supplier and the invoice number."), details={"supplier": [_("Required.")]}
        )
    if not lines:
        raise ServiceError(
            _("A delivery has at least one line."), details={"lines": [_("Add at least one line.")]}
        )
    items = {item.pk: item for item in application.items.with_delivered()}
    priced = []
    for row in lines:
        item = items.get(row.get("item"))
        if item is None:
            raise ServiceError(
                _("A line names an item that is not in this application."),
                details={"lines": [_("Unknown item.")]},
            )
        if ordered_items is not None and item.pk not in ordered_items:
            raise ServiceError(
                _("Item “%(item)s” is not on the purchase order.") % {"item": item.description},
                details={"lines": [_("Not on the purchase order.")]},
            )
        try:
            quantity = int(row.get("quantity"))
        except (TypeError, ValueError):
            quantity = 0
        due = item.quantity_due
        if quantity < 1 or quantity > due:
            raise ServiceError(
                _("Item “%(item)s”: %(due)s still to deliver.") % {"item": item.description, "due": due},
                details={"lines": [_("Quantity above what is still due.")]},
            )
        item.delivered += quantity
        unit = parse_amount(row.get("actual_unit_cost"), "lines")
        marks = {
            name: checked_text(row.get(name, ""), DeliveryLine._meta.get_field(name))
            for name in ("serial_number", "asset_tag")
        }
        priced.append((item, quantity, unit, (unit * quantity).quantize(CENT), marks))
    reapproval = cost_check(application, priced)
    rate = eur_rate(application.programme.currency, delivered_on)
    delivery = Delivery.objects.create(
        application=application,
        delivered_on=delivered_on,
        supplier=checked_text(supplier, Delivery._meta.get_field("supplier")),
        invoice_number=checked_text(invoice_number, Delivery._meta.get_field("invoice_number")),
        purchase_order=order if ordered_items is not None else None,
        recorded_by=by,
        reapproval=reapproval,
    )
    for item, quantity, unit, amount, marks in priced:
        DeliveryLine.objects.create(
            **marks,
            delivery=delivery,
            item=item,
            quantity=quantity,
            actual_unit_cost=unit,
            amount=amount,
            units_per_eur=rate,
            amount_eur=(amount / rate).quantize(CENT, rounding=ROUND_HALF_UP),
        )
    trail.record(
        action="delivery",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "delivery": delivery.pk,
            "invoice": delivery.invoice_number,
            **({"reapproval": reapproval.pk} if reapproval is not None else {}),
        },
    )
    maybe_complete_delivery(application=application, by=by)
    return delivery


def _approved_order(application, purchase_order):
    """The approved purchase order of `application` a delivery names (an order or its id)."""
    message = _("Name the approved purchase order this delivery fulfils.")
    if purchase_order is None:
        raise ServiceError(message, code="purchase_order_required", details={"purchase_order": [message]})
    order_id = getattr(purchase_order, "pk", purchase_order)
    order = (
        PurchaseOrder.objects.select_related("supplier")
        .filter(pk=order_id, application=application, status=PurchaseOrder.Status.APPROVED)
        .first()
    )
    if order is None:
        raise ServiceError(message, code="purchase_order_required", details={"purchase_order": [message]})
    return order


def delivered_cost(application):
    """What the grant's deliveries cost so far, in the programme's currency."""
    return cents(
        DeliveryLine.objects.filter(delivery__application=application).aggregate(total=Sum("amount"))["total"]
    )


def cost_limits(application):
    """What a grant's deliveries may cost without a re-approval: each unit at most its
    approved unit cost × (1 + tolerance), and in total at most the approved amount
    × (1 + tolerance). Returns (tolerance factor, total without re-approval, ceiling)."""
    programme = application.programme
    factor = 1 + programme.cost_tolerance
    approved = application.approved_amount
    if approved is None:
        approved = application.compute_requested_total()
    return factor, (approved * factor).quantize(CENT), programme.ceiling


def cost_check(application, priced):
    """Refuse a delivery that would take the grant's delivered cost above the
    programme's ceiling (always), or above the approved cost plus tolerance without a
    programme manager's re-approval that covers it. `priced`: (item, quantity, unit,
    amount, marks) of the new lines. Returns the re-approval the delivery relies on, or None.
    Called with the application's row locked, so two deliveries at once see each other."""
    factor, within_tolerance, ceiling = cost_limits(application)
    total = delivered_cost(application) + sum((row[3] for row in priced), Decimal("0"))
    if total > ceiling:
        message = _(
            "This delivery would bring the grant's equipment to %(total)s, above the programme's "
            "ceiling of %(ceiling)s per grant; no re-approval can allow that."
        ) % {"total": total, "ceiling": ceiling}
        raise ServiceError(message, code="above_ceiling", details={"lines": [message]})
    over = [
        item.description
        for item, _quantity, unit, *_rest in priced
        if unit > (item.unit_cost_granted * factor).quantize(CENT)
    ]
    if not over and total <= within_tolerance:
        return None
    reapproval = application.cost_reapprovals.first()
    if reapproval is not None and total <= reapproval.limit:
        return reapproval
    if over:
        message = _(
            "The price of “%(item)s” is above its approved unit cost plus the programme's "
            "tolerance (%(tolerance)s %%): a programme manager must re-approve the cost before "
            "this delivery is recorded."
        ) % {"item": over[0], "tolerance": _percent(application.programme.cost_tolerance)}
    else:
        message = _(
            "This delivery would bring the grant's equipment to %(total)s, above the approved "
            "%(limit)s (with the programme's tolerance): a programme manager must re-approve "
            "the cost before this delivery is recorded."
        ) % {"total": total, "limit": within_tolerance if reapproval is None else reapproval.limit}
    raise ServiceError(message, code="reapproval_needed", details={"lines": [message]})


def _percent(share):
    return f"{(share * 100).normalize():f}"


@transaction.atomic
def reapprove_cost(*, application, by, limit, reason):
    """A programme manager lets the grant's deliveries cost up to `limit` in total
    (above the approved prices plus tolerance, never above the ceiling per grant), for
    the reason given. Audited; the deliveries recorded under it name it."""
    application = locked(application)
    require(permissions.can_reapprove_cost(by, application))
    if application.state != State.APPROVED:
        raise Conflict(_("The cost is re-approved for approved grants only."), code="wrong_state")
    reason = checked_text(reason, CostReapproval._meta.get_field("reason"))
    if not reason:
        message = _("Give the reason for the re-approval.")
        raise ServiceError(message, details={"reason": [message]})
    limit = parse_amount(limit, "limit")
    ceiling = application.programme.ceiling
    spent = delivered_cost(application)
    if limit > ceiling:
        message = _("The programme's ceiling per grant is %(ceiling)s: re-approve at most that.") % {
            "ceiling": ceiling
        }
        raise ServiceError(message, code="above_ceiling", details={"limit": [message]})
    if limit < spent or limit <= 0:
        message = _("The grant's deliveries already cost %(spent)s: re-approve more than that.") % {
            "spent": spent
        }
        raise ServiceError(message, details={"limit": [message]})
    previous = application.cost_reapprovals.first()
    reapproval = CostReapproval.objects.create(
        application=application, limit=limit, reason=reason, approved_by=by
    )
    trail.record(
        action="delivery_cost_reapproved",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=reason,
        data={
            "reapproval": reapproval.pk,
            "limit": str(limit),
            "approved_amount": str(application.approved_amount),
            "previous_limit": None if previous is None else str(previous.limit),
            "delivered": str(spent),
        },
    )
    return reapproval


def maybe_complete_delivery(*, application, by):
    """Take record_delivery once every item is delivered and the protocol is on file."""
    if application.state != State.APPROVED:
        return application
    if unmet_rules(application, "record_delivery"):
        return application
    if not permissions.can_transition(by, application, "record_delivery"):
        return application
    return take_transition(application=application, name="record_delivery", by=by)
