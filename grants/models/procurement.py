"""Procurement: the supplier register, conflicts of interest declared by staff, quotes per
item and purchase orders approved by two people (docs/procurement.md)."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .common import MONEY

IBAN_LENGTH = 34
# What a form takes in: the IBAN with the spaces people type between groups of four.
IBAN_LENGTH_LIMIT = IBAN_LENGTH + 9


def normalised_iban(value):
    return re.sub(r"\s+", "", str(value or "")).upper()


def iban_is_valid(value):
    """ISO 13616: country code, two check digits, the account; the number formed by
    moving the first four characters to the end (letters as 10..35) leaves 1 mod 97."""
    iban = normalised_iban(value)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(char, 36)) for char in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def validate_iban(value):
    if not iban_is_valid(value):
        raise ValidationError(_("Enter a valid IBAN (country code, check digits and account)."), code="iban")


class Supplier(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending vetting")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=200)
    tax_number = models.CharField(_("tax number"), max_length=30, unique=True)
    address = models.CharField(_("address"), max_length=300)
    iban = models.CharField(_("bank account (IBAN)"), max_length=IBAN_LENGTH, validators=[validate_iban])
    status = models.CharField(_("vetting status"), max_length=10, choices=Status, default=Status.PENDING)
    vetted_on = models.DateField(_("vetted on"), null=True, blank=True)
    vetted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "id"]
        permissions = [("vet_supplier", "Vet suppliers")]
        indexes = [models.Index(fields=["status", "name"])]

    def __str__(self):
        return self.name

    @property
    def is_vetted(self):
        return self.status == self.Status.APPROVED


class ConflictDeclaration(models.Model):
    """A member of staff declares an interest in a supplier (family, ownership, work):
    they then neither choose its quotes nor approve orders to it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conflicts")
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="conflicts")
    declared_on = models.DateField(_("declared on"), default=timezone.localdate)
    note = models.CharField(_("note"), max_length=1000, blank=True)

    class Meta:
        ordering = ["-declared_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "supplier"], name="one_declaration_per_user_supplier")
        ]

    def __str__(self):
        return f"conflict of user {self.user_id} with supplier {self.supplier_id}"


class PurchaseOrder(models.Model):
    """An order to one supplier for one grant (the chosen quotes not ordered yet), numbered per programme and year without gaps
    (PO-2026-0001), approved by a procurement officer and a finance officer, neither of
    them its creator, in either order."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")

    programme = models.ForeignKey(
        "grants.Programme", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    application = models.ForeignKey(
        "grants.GrantApplication", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("number"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    total = models.DecimalField(_("total"), **MONEY)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    procurement_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    procurement_approved_at = models.DateTimeField(null=True, blank=True)
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finance_approved_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("approve_purchaseorder", "Approve purchase orders")]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "year", "sequence"], name="po_number_per_programme_year"
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="po_total_nonneg"),
            models.CheckConstraint(
                condition=Q(status="pending")
                | (Q(procurement_approved_by__isnull=False) & Q(finance_approved_by__isnull=False)),
                name="po_approved_by_both",
            ),
        ]

    def __str__(self):
        return self.number

    @staticmethod
    def format_number(year, sequence):
        return f"PO-{year}-{sequence:04d}"

    @property
    def is_approved(self):
        return self.status == self.Status.APPROVED


class SupplierQuote(models.Model):
    """A vetted supplier's price for one item of an approved grant, with its document
    (kind `supplier_quote`). One quote per item is chosen; a chosen quote that is not
    the cheapest carries a written justification."""

    item = models.ForeignKey("grants.EquipmentItem", on_delete=models.CASCADE, related_name="quotes")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="quotes")
    unit_price = models.DecimalField(_("price per unit"), **MONEY)
    quoted_on = models.DateField(_("quote date"))
    valid_until = models.DateField(_("valid until"))
    document = models.ForeignKey("grants.Document", on_delete=models.PROTECT, related_name="+")
    chosen = models.BooleanField(default=False)
    chosen_at = models.DateTimeField(null=True, blank=True)
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    justification = models.CharField(_("justification"), max_length=2000, blank=True)
    purchase_order = models.ForeignKey(
        PurchaseOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes"
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["unit_price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="quote_price_nonneg"),
            models.CheckConstraint(
                condition=Q(valid_until__gte=models.F("quoted_on")), name="quote_valid_dates"
            ),
            models.UniqueConstraint(fields=["item", "supplier"], name="one_quote_per_item_supplier"),
            models.UniqueConstraint(
                fields=["item"], condition=Q(chosen=True), name="one_chosen_quote_per_item"
            ),
        ]

    def __str__(self):
        return f"quote {self.pk}: {self.unit_price} for item {self.item_id}"
