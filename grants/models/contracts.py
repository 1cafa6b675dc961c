"""The grant contract, the beneficiary's own contribution and its payments.

The contract is issued from the approval (grants.services.contracts): it keeps the terms
it was printed with (the approved amount, the contribution's share, amount and due date),
so a programme changed afterwards does not change a contract already signed. Payments
are never edited: a correction is a reversing entry (a negative amount pointing at the
payment it reverses)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import ZERO, cents

from .common import MONEY


class RuleTiming(models.TextChoices):
    """Whether a programme asks for a contract condition, and by when it must be met."""

    OFF = "", _("Not required")
    BEFORE_PROCUREMENT = "before_procurement", _("Before procurement")
    BEFORE_DELIVERY = "before_delivery", _("Before delivery")


PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
}


class GrantContract(models.Model):
    application = models.OneToOneField(
        "grants.GrantApplication", on_delete=models.PROTECT, related_name="contract"
    )
    number = models.CharField(_("contract number"), max_length=30, unique=True)
    issued_on = models.DateField(_("issued on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    language = models.CharField(max_length=10)
    approved_amount = models.DecimalField(_("approved amount"), **MONEY)
    contribution_percent = models.DecimalField(_("own contribution (%)"), **PERCENT)
    contribution_amount = models.DecimalField(_("own contribution"), **MONEY)
    contribution_due_on = models.DateField(_("own contribution due on"), null=True, blank=True)
    signed_copy = models.ForeignKey(
        "grants.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    signed_received_at = models.DateTimeField(_("signed copy received"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(approved_amount__gte=0), name="contract_amount_nonneg"),
            models.CheckConstraint(
                condition=Q(contribution_amount__gte=0), name="contract_contribution_nonneg"
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def is_signed(self):
        return self.signed_copy_id is not None


class ContributionPayment(models.Model):
    application = models.ForeignKey(
        "grants.GrantApplication", on_delete=models.PROTECT, related_name="contribution_payments"
    )
    # Positive for a payment, negative for the entry that reverses one.
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("reference"), max_length=100)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            # A payment is positive and reverses nothing; a reversal is negative and names
            # the payment it reverses (once: the one-to-one key).
            models.CheckConstraint(
                condition=Q(amount__gt=0, reverses__isnull=True) | Q(amount__lt=0, reverses__isnull=False),
                name="contribution_payment_or_reversal",
            ),
        ]

    def __str__(self):
        return f"{self.amount} on {self.paid_on} for application {self.application_id}"

    @property
    def is_reversal(self):
        return self.reverses_id is not None


def contribution_of(amount, percent):
    """The own contribution: `percent` of `amount`, to the cent."""
    return cents((amount or ZERO) * (percent or ZERO) / 100)


def contribution_expected(application):
    """What the beneficiary owes: the contract's amount once issued, before that the
    programme's share of the approved amount."""
    contract = getattr(application, "contract", None)
    if contract is not None:
        return contract.contribution_amount
    return contribution_of(application.approved_amount, application.programme.own_contribution_percent)


def contribution_paid(application):
    """Payments less their reversals (read once for a page: `remember_reads`)."""
    return application.remembered(
        "contribution_paid",
        lambda: cents(application.contribution_payments.aggregate(total=Sum("amount"))["total"]),
    )


def contribution_outstanding(application):
    return max(contribution_expected(application) - contribution_paid(application), ZERO)
