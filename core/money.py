"""Amounts as the services take them in: Decimal, never float, to the cent."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .errors import ServiceError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Above any grant or budget the service handles; keeps amounts inside the columns.
LIMIT = Decimal("1e12")


def cents(value):
    """A Decimal rounded to the cent; None and missing sums are zero."""
    if value is None:
        return ZERO
    return Decimal(value).quantize(CENT)


def parse_amount(value, field):
    """`value` (text or number from a form, a field app or a file) as a Decimal amount
    of whole cents, or ServiceError naming `field`: not a number, negative, more than two
    decimal places, or too large."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ServiceError(
            _("Enter an amount such as 120.50."),
            code="invalid",
            details={field: [_("Enter an amount such as 120.50.")]},
        ) from None
    if not amount.is_finite() or amount < 0:
        raise ServiceError(
            _("Amounts cannot be negative."), details={field: [_("Amounts cannot be negative.")]}
        )
    if amount != amount.quantize(CENT) or amount >= LIMIT:
        raise ServiceError(
            _("Use at most two decimal places."), details={field: [_("Use at most two decimal places.")]}
        )
    return amount.quantize(CENT)
