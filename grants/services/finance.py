"""Money writes: exchange rates and deliveries (partial or whole) of approved grants."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.errors import (
    Conflict,
    ServiceError,
    checked_text,
    require,
)
from core.money import CENT, parse_amount

from .. import contracts, permissions
from ..models import (
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
    rate = eur_rate(application.programme.currency, delivered_on)
    delivery = Delivery.objects.create(
        application=application,
        delivered_on=delivered_on,
        supplier=checked_text(supplier, Delivery._meta.get_field("supplier")),
        invoice_number=checked_text(invoice_number, Delivery._meta.get_field("invoice_number")),
        purchase_order=order if ordered_items is not None else None,
        recorded_by=by,
    )
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
        amount = (unit * quantity).quantize(CENT)
        DeliveryLine.objects.create(
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
        data={"delivery": delivery.pk, "invoice": delivery.invoice_number},
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


def maybe_complete_delivery(*, application, by):
    """Take record_delivery once every item is delivered and the protocol is on file."""
    if application.state != State.APPROVED:
        return application
    if unmet_rules(application, "record_delivery"):
        return application
    if not permissions.can_transition(by, application, "record_delivery"):
        return application
    return take_transition(application=application, name="record_delivery", by=by)
