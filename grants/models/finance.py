"""Equipment, commitments, exchange rates and deliveries: the money side of a grant."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import cents

from ..workflow import State
from .common import MAX_QUANTITY, MONEY, Currency


class EquipmentItemQuerySet(models.QuerySet):
    def with_delivered(self):
        """Each item with `delivered`: the quantity handed over so far, over all the
        grant's deliveries (0 before the first). The one definition the delivery form,
        the service that records a delivery, the application page and the delivery
        guard read."""
        return self.annotate(
            delivered=Coalesce(Sum("delivery_lines__quantity"), Value(0), output_field=models.IntegerField())
        )


class EquipmentItem(models.Model):
    application = models.ForeignKey("grants.GrantApplication", on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(
        _("quantity"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    unit_cost = models.DecimalField(_("unit cost estimate"), **MONEY)
    # What the approval grants for this item: the request's quantity and unit cost, or
    # less (a reduced approval). Blank until the grant is approved; what deliveries are
    # measured against afterwards (`quantity_granted`, `unit_cost_granted`).
    approved_quantity = models.PositiveIntegerField(
        _("approved quantity"), null=True, blank=True, validators=[MaxValueValidator(MAX_QUANTITY)]
    )
    approved_unit_cost = models.DecimalField(_("approved unit cost"), null=True, blank=True, **MONEY)
    supplier_quote = models.ForeignKey(
        "grants.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EquipmentItemQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="item_unit_cost_nonneg"),
            models.CheckConstraint(
                condition=Q(approved_unit_cost__isnull=True) | Q(approved_unit_cost__gte=0),
                name="item_approved_unit_cost_nonneg",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.description}"

    @property
    def quantity_granted(self):
        """The quantity to hand over: as approved, or as requested before approval."""
        return self.quantity if self.approved_quantity is None else self.approved_quantity

    @property
    def unit_cost_granted(self):
        """The unit cost deliveries are measured against: as approved, or as estimated."""
        return self.unit_cost if self.approved_unit_cost is None else self.approved_unit_cost

    @property
    def quantity_due(self):
        """What is still to hand over (from `with_delivered`)."""
        return self.quantity_granted - self.delivered

    @property
    def line_total(self):
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))

    @property
    def approved_total(self):
        """The item's share of the approved amount (0 for an item approved at none)."""
        return (self.unit_cost_granted * self.quantity_granted).quantize(Decimal("0.01"))


class CommitmentQuerySet(models.QuerySet):
    def still_open(self):
        """Active commitments of grants that still count at their approved amount: those
        still approved. (A commitment is made by `approve` and released by `cancel`, so an
        active one belongs to an approved grant or to one that counts at cost; naming the
        one state lets PostgreSQL start from the approved grants rather than read every
        grant to exclude the others: docs/reports.md has the times.)"""
        return self.filter(status=Commitment.Status.ACTIVE, application__state=State.APPROVED)


class Commitment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    application = models.ForeignKey(
        "grants.GrantApplication", on_delete=models.PROTECT, related_name="commitments"
    )
    programme = models.ForeignKey("grants.Programme", on_delete=models.PROTECT, related_name="commitments")
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="commitment_amount_nonneg"),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="active"),
                name="one_live_commitment_per_application",
            ),
        ]
        indexes = [models.Index(fields=["programme", "status"])]

    def __str__(self):
        return f"{self.amount} for application {self.application_id} ({self.status})"


class ExchangeRate(models.Model):
    """How many units of `currency` one euro buys on `date` (as central banks publish)."""

    currency = models.CharField(max_length=3, choices=Currency)
    date = models.DateField()
    units_per_eur = models.DecimalField(max_digits=14, decimal_places=6)

    class Meta:
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="rate_unique_per_day"),
            models.CheckConstraint(condition=Q(units_per_eur__gt=0), name="rate_positive"),
        ]

    def __str__(self):
        return f"1 EUR = {self.units_per_eur} {self.currency} on {self.date}"


class CostReapproval(models.Model):
    """A programme manager's re-approval of what a grant's deliveries may cost: above
    the approved prices plus the programme's tolerance, up to `limit` in total (never
    above the programme's ceiling per grant). The latest one of a grant is in force;
    each delivery it let through names it (docs/design.md, "Cost control")."""

    application = models.ForeignKey(
        "grants.GrantApplication", on_delete=models.PROTECT, related_name="cost_reapprovals"
    )
    limit = models.DecimalField(_("most the deliveries may cost in total"), **MONEY)
    reason = models.TextField(_("reason"), max_length=2000)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(limit__gt=0), name="reapproval_limit_positive")]

    def __str__(self):
        return f"re-approval of application {self.application_id} up to {self.limit}"


class DeliveryQuerySet(models.QuerySet):
    def without_protocol(self):
        """Deliveries no signed protocol covers: none linked, or one uploaded before the
        delivery was recorded (a protocol cannot confirm a handover not yet made)."""
        return self.filter(
            Q(handover_protocol__isnull=True) | Q(handover_protocol__created_at__lt=F("created_at"))
        )


class Delivery(models.Model):
    application = models.ForeignKey(
        "grants.GrantApplication", on_delete=models.PROTECT, related_name="deliveries"
    )
    delivered_on = models.DateField(_("delivered on"))
    supplier = models.CharField(_("supplier"), max_length=200)
    invoice_number = models.CharField(_("invoice number"), max_length=100)
    # Required when the programme requires purchase orders; `supplier` then repeats the
    # order's supplier's name (the API's field keeps its meaning).
    purchase_order = models.ForeignKey(
        "grants.PurchaseOrder", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The signed protocol of this delivery's handover: linked when a handover protocol is
    # uploaded after it (grants.documents.files); the rule `handover_protocol` counts
    # only a protocol uploaded after the delivery was recorded.
    handover_protocol = models.ForeignKey(
        "grants.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="covered_deliveries"
    )
    # The re-approval that let a delivery above the approved cost (plus tolerance) through.
    reapproval = models.ForeignKey(
        CostReapproval, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["delivered_on", "id"]
        verbose_name_plural = _("deliveries")

    def __str__(self):
        return f"delivery {self.pk} for application {self.application_id}"


class DeliveryLineQuerySet(models.QuerySet):
    def at_cost(self):
        """Lines of grants that count at their delivered cost (State.AT_COST)."""
        return self.filter(delivery__application__state__in=State.AT_COST)


class EquipmentOutcome(models.TextChoices):
    """What became of a delivered item when its business closed (discontinue)."""

    RECOVERED = "recovered", _("Recovered by the programme")
    REALLOCATED = "reallocated", _("Reallocated to another grant")
    SOLD = "sold", _("Sold")
    LOST = "lost", _("Lost")


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(EquipmentItem, on_delete=models.PROTECT, related_name="delivery_lines")
    quantity = models.PositiveIntegerField()
    actual_unit_cost = models.DecimalField(**MONEY)
    # Programme currency; EUR at the delivery date's rate, kept as recorded.
    amount = models.DecimalField(**MONEY)
    units_per_eur = models.DecimalField(max_digits=14, decimal_places=6)
    amount_eur = models.DecimalField(**MONEY)
    # The asset register (docs/reports.md "Asset register"): what identifies the item ...
    # (db_default: rows written in bulk without them, bench/generate, get the blank)
    serial_number = models.CharField(
        _("serial number"), max_length=200, blank=True, default="", db_default=""
    )
    asset_tag = models.CharField(_("asset tag"), max_length=50, blank=True, default="", db_default="")
    # ... the day it became the beneficiary's (the grant completed its monitoring) ...
    ownership_passed_on = models.DateField(_("ownership passed on"), null=True, blank=True)
    # ... or what became of it when the business closed (discontinue).
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=EquipmentOutcome, blank=True, default="", db_default=""
    )
    outcome_on = models.DateField(null=True, blank=True)
    proceeds = models.DecimalField(_("proceeds of the sale"), null=True, blank=True, **MONEY)
    # A line handed over from a discontinued grant: no money was spent on it here
    # (amount 0: the first grant counts the cost, once); `book_value` is what it is worth.
    reallocated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reallocated_to"
    )
    book_value = models.DecimalField(_("book value"), null=True, blank=True, **MONEY)

    objects = DeliveryLineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(actual_unit_cost__gte=0), name="line_unit_cost_nonneg"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="line_amount_nonneg"),
            models.CheckConstraint(condition=Q(amount_eur__gte=0), name="line_amount_eur_nonneg"),
            models.CheckConstraint(
                condition=Q(proceeds__isnull=True) | Q(proceeds__gte=0), name="line_proceeds_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(reallocated_from__isnull=True) | (Q(amount=0) & Q(amount_eur=0)),
                name="line_reallocated_costs_nothing",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} of item {self.item_id}"

    @property
    def value(self):
        """What the item is worth in the register: its cost, or for a reallocated item
        the book value it was handed over at (no depreciation: book value = cost)."""
        return self.book_value if self.reallocated_from_id else self.amount


def programme_committed(programme_id):
    """Committed amount of one programme, in its currency (two aggregate queries): its
    open commitments and the delivered cost of its grants that count at cost."""
    open_amount = (
        Commitment.objects.still_open().filter(programme_id=programme_id).aggregate(total=Sum("amount"))
    )
    spent = (
        DeliveryLine.objects.at_cost()
        .filter(delivery__application__programme_id=programme_id)
        .aggregate(total=Sum("amount"))
    )
    return cents(open_amount["total"]) + cents(spent["total"])
