"""Procurement writes: the supplier register, conflict declarations, quotes, the chosen
quote per item and purchase orders with their two approvals (docs/procurement.md).

Each runs in one transaction, checks the permission first and writes an audit event."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.errors import Conflict, ServiceError, checked_text, require
from core.money import CENT, ZERO, parse_amount

from .. import contracts, documents
from .. import procurement_permissions as rules
from ..models import (
    ConflictDeclaration,
    DocumentKind,
    EquipmentItem,
    Programme,
    PurchaseOrder,
    Supplier,
    SupplierQuote,
    iban_is_valid,
    normalised_iban,
)
from .applications import locked

SUPPLIER_TEXTS = ("name", "tax_number", "address")


def _supplier_text(values, name):
    text = checked_text(values.get(name), Supplier._meta.get_field(name))
    if not text:
        raise ServiceError(
            _("Give the supplier's %(field)s.") % {"field": Supplier._meta.get_field(name).verbose_name},
            details={name: [_("Required.")]},
        )
    return text


@transaction.atomic
def save_supplier(*, by, supplier=None, **values):
    """Create a supplier (pending vetting) or change one. A changed bank account sends an
    approved supplier back to vetting: payments follow the account."""
    require(rules.can_manage_suppliers(by))
    facts = {name: _supplier_text(values, name) for name in SUPPLIER_TEXTS}
    iban = normalised_iban(values.get("iban"))
    if not iban_is_valid(iban):
        message = _("Enter a valid IBAN (country code, check digits and account).")
        raise ServiceError(message, details={"iban": [message]})
    facts["iban"] = iban
    taken = Supplier.objects.filter(tax_number=facts["tax_number"])
    if supplier is not None:
        taken = taken.exclude(pk=supplier.pk)
    if taken.exists():
        message = _("A supplier with this tax number is already registered.")
        raise ServiceError(message, details={"tax_number": [message]})
    if supplier is None:
        supplier = Supplier.objects.create(created_by=by, **facts)
        trail.record(action="supplier_created", actor=by, data={"supplier": supplier.pk, **facts})
        return supplier
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    fields = [name for name, value in facts.items() if getattr(supplier, name) != value]
    if not fields:
        return supplier
    if "iban" in fields and supplier.status != Supplier.Status.PENDING:
        facts["status"] = Supplier.Status.PENDING
        fields.append("status")
    before = {name: getattr(supplier, name) for name in fields}
    for name in fields:
        setattr(supplier, name, facts[name])
    supplier.save(update_fields=fields)
    trail.record(
        action="supplier_changed",
        actor=by,
        data={"supplier": supplier.pk, "before": before, "after": {name: facts[name] for name in fields}},
    )
    return supplier


@transaction.atomic
def vet_supplier(*, supplier, by, status, comment=""):
    """Set the vetting status (approved, rejected, suspended, or back to pending), dated."""
    supplier = Supplier.objects.select_for_update().get(pk=supplier.pk)
    require(rules.can_vet_supplier(by, supplier))
    if status not in Supplier.Status.values:
        raise ServiceError(
            _("Choose a vetting status from the list."), details={"status": [_("Unknown status.")]}
        )
    before = supplier.status
    supplier.status = status
    supplier.vetted_on = timezone.localdate()
    supplier.vetted_by = by
    supplier.save(update_fields=["status", "vetted_on", "vetted_by"])
    trail.record(
        action="supplier_vetted",
        actor=by,
        comment=checked_text(comment, SupplierQuote._meta.get_field("justification"), key="comment"),
        data={"supplier": supplier.pk, "before": before, "after": status},
    )
    return supplier


@transaction.atomic
def declare_conflict(*, by, supplier, note=""):
    """Declare (or restate, with a new date and note) a conflict of interest."""
    require(rules.can_declare_conflict(by))
    note = checked_text(note, ConflictDeclaration._meta.get_field("note"))
    earlier = ConflictDeclaration.objects.filter(user=by, supplier=supplier).first()
    declaration, _created = ConflictDeclaration.objects.update_or_create(
        user=by, supplier=supplier, defaults={"declared_on": timezone.localdate(), "note": note}
    )
    # (the note, free text, beside the chain in the comment)
    trail.record(
        action="conflict_declared",
        actor=by,
        comment=note,
        data={
            "supplier": supplier.pk,
            "before": None if earlier is None else {"declared_on": earlier.declared_on.isoformat()},
            "after": {"declared_on": declaration.declared_on.isoformat()},
        },
    )
    return declaration


def quotes_needed(item, programme):
    """How many quotes of vetted suppliers an item needs before one is chosen."""
    if item.approved_total > programme.quote_threshold:
        return programme.quotes_required
    return 1


def _comparable(item):
    """The item's quotes that count: from suppliers vetted now."""
    return SupplierQuote.objects.filter(item=item, supplier__status=Supplier.Status.APPROVED)


def add_quote(*, item, by, supplier, unit_price, quoted_on, valid_until, uploaded_file):
    """Record a vetted supplier's quote for one item, its document uploaded with kind
    `supplier_quote` (stored, checked and audited by the documents service, in its own
    transactions: no lock is held while the file travels to storage; callers are
    `non_atomic_requests` like the upload endpoint). Everything is checked before the
    upload and again, under the grant's lock, before the quote is written."""
    price = _check_quote(
        item.application, item, by, supplier, unit_price, quoted_on, valid_until, uploaded_file
    )
    document = documents.upload_document(
        application=item.application, by=by, kind=DocumentKind.SUPPLIER_QUOTE, uploaded_file=uploaded_file
    )
    with transaction.atomic():
        application = locked(item.application)
        _check_quote(application, item, by, supplier, unit_price, quoted_on, valid_until, uploaded_file)
        quote = SupplierQuote.objects.create(
            item=item,
            supplier=supplier,
            unit_price=price,
            quoted_on=quoted_on,
            valid_until=valid_until,
            document=document,
            created_by=by,
        )
        trail.record(
            action="quote_added",
            actor=by,
            application=application,
            from_state=application.state,
            to_state=application.state,
            data={"quote": quote.pk, "item": item.pk, "supplier": supplier.pk, "unit_price": str(price)},
        )
    return quote


def _check_quote(application, item, by, supplier, unit_price, quoted_on, valid_until, uploaded_file):  # noqa: PLR0913
    require(rules.can_add_quote(by, application))
    if not Supplier.objects.filter(pk=supplier.pk, status=Supplier.Status.APPROVED).exists():
        raise ServiceError(
            _("Quotes are taken from vetted suppliers only."), details={"supplier": [_("Not vetted.")]}
        )
    price = parse_amount(unit_price, "unit_price")
    if valid_until < quoted_on:
        message = _("A quote cannot expire before its date.")
        raise ServiceError(message, details={"valid_until": [message]})
    if quoted_on > timezone.localdate():
        message = _("A quote cannot be dated in the future.")
        raise ServiceError(message, details={"quoted_on": [message]})
    if SupplierQuote.objects.filter(item=item, supplier=supplier).exists():
        message = _("This supplier has already quoted for this item.")
        raise ServiceError(message, details={"supplier": [message]})
    if uploaded_file is None:
        message = _("Upload the supplier's quote.")
        raise ServiceError(message, details={"file": [message]})
    return price


def _contract_conditions_met(application):
    """The grant contract's conditions the programme asks before procurement (signed
    contract, own contribution, registration: grants.contracts) hold, or nothing is
    chosen or ordered."""
    unmet = contracts.unmet_before_procurement(application)
    if unmet:
        raise Conflict(
            _("Not before the grant contract's conditions are met: %(conditions)s")
            % {"conditions": " ".join(unmet)},
            code="contract_conditions",
        )


@transaction.atomic
def choose_quote(*, quote, by, justification=""):
    """Choose the quote an item is bought at. Above the programme's threshold, the
    required number of vetted suppliers' quotes must be on file; a quote dearer than the
    cheapest needs a written justification. The item's `supplier_quote` is its document."""
    item = (
        EquipmentItem.objects.select_for_update()
        .select_related("application__programme")
        .get(pk=quote.item_id)
    )
    application = locked(item.application)
    quote = SupplierQuote.objects.select_related("supplier").get(pk=quote.pk)
    require(rules.can_choose_quote(by, quote, application))
    _contract_conditions_met(application)
    if SupplierQuote.objects.filter(item=item, purchase_order__isnull=False).exists():
        raise Conflict(_("This item is already ordered; its choice stays."), code="ordered")
    if not quote.supplier.is_vetted:
        raise ServiceError(_("The supplier is not vetted (any more)."), details={"quote": [_("Not vetted.")]})
    if quote.valid_until < timezone.localdate():
        raise ServiceError(_("This quote has expired."), details={"quote": [_("Expired.")]})
    comparable = list(_comparable(item))
    needed = quotes_needed(item, application.programme)
    if len(comparable) < needed:
        message = _(
            "This item is worth more than %(threshold)s %(currency)s: compare %(needed)s quotes of vetted "
            "suppliers (%(have)s on file)."
        ) % {
            "threshold": application.programme.quote_threshold,
            "currency": application.programme.currency,
            "needed": needed,
            "have": len(comparable),
        }
        raise ServiceError(message, code="too_few_quotes", details={"quote": [message]})
    cheapest = min(q.unit_price for q in comparable)
    justification = checked_text(justification, SupplierQuote._meta.get_field("justification"))
    if quote.unit_price > cheapest and not justification:
        message = _("This is not the cheapest quote: write why it is chosen.")
        raise ServiceError(message, code="justification_required", details={"justification": [message]})
    earlier = SupplierQuote.objects.filter(item=item, chosen=True).values_list("pk", flat=True).first()
    SupplierQuote.objects.filter(item=item, chosen=True).exclude(pk=quote.pk).update(
        chosen=False, chosen_at=None, chosen_by=None, justification=""
    )
    quote.chosen = True
    quote.chosen_at = timezone.now()
    quote.chosen_by = by
    quote.justification = justification
    quote.save(update_fields=["chosen", "chosen_at", "chosen_by", "justification"])
    item.supplier_quote_id = quote.document_id
    item.save(update_fields=["supplier_quote"])
    trail.record(
        action="quote_chosen",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=justification,
        data={
            "quote": quote.pk,
            "item": item.pk,
            "supplier": quote.supplier_id,
            "cheapest": quote.unit_price <= cheapest,
            "before": {"chosen_quote": earlier},
            "after": {"chosen_quote": quote.pk},
        },
    )
    return quote


def next_number(programme, year):
    """The next order number of `programme` in `year`. The caller holds the programme
    row's lock, so two orders never take the same number and, since a failed order rolls
    its number back with it, numbers have no gaps."""
    last = PurchaseOrder.objects.filter(programme=programme, year=year).aggregate(last=Max("sequence"))[
        "last"
    ]
    return (last or 0) + 1


@transaction.atomic
def create_purchase_order(*, application, supplier, by):
    """Order from `supplier` the grant's items whose chosen quote is theirs and not
    ordered yet, at the quoted price for the granted quantity."""
    application = locked(application)
    require(rules.can_create_purchase_order(by, application, supplier))
    _contract_conditions_met(application)
    if not supplier.is_vetted:
        raise ServiceError(_("Orders go to vetted suppliers only."), details={"supplier": [_("Not vetted.")]})
    # Locks the programme's numbering (and nothing else waits long on the row).
    programme = Programme.objects.select_for_update(no_key=True).get(pk=application.programme_id)
    quotes = list(
        SupplierQuote.objects.select_for_update(of=("self",))
        .filter(item__application=application, supplier=supplier, chosen=True, purchase_order__isnull=True)
        .select_related("item")
    )
    if not quotes:
        message = _("No chosen quote of this supplier is waiting to be ordered.")
        raise ServiceError(message, code="nothing_to_order", details={"supplier": [message]})
    total = sum(((q.unit_price * q.item.quantity_granted).quantize(CENT) for q in quotes), ZERO)
    year = timezone.localdate().year
    sequence = next_number(programme, year)
    order = PurchaseOrder.objects.create(
        programme=programme,
        application=application,
        supplier=supplier,
        year=year,
        sequence=sequence,
        number=PurchaseOrder.format_number(year, sequence),
        total=total,
        created_by=by,
    )
    SupplierQuote.objects.filter(pk__in=[q.pk for q in quotes]).update(purchase_order=order)
    trail.record(
        action="purchase_order_created",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "purchase_order": order.pk,
            "number": order.number,
            "supplier": supplier.pk,
            "total": str(total),
            "quotes": [q.pk for q in quotes],
            # the quotes were not ordered before
            "before": {"purchase_order": None},
            "after": {"purchase_order": order.pk},
        },
    )
    return order


@transaction.atomic
def approve_purchase_order(*, order, by):
    """Give the procurement or the finance approval; the second one approves the order."""
    order = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("application", "supplier")
        .get(pk=order.pk)
    )
    require(rules.can_approve_purchase_order(by, order))
    slot = rules.approval_slot(by, order)
    before = {"status": order.status, f"{slot}_approved_by": None}
    now = timezone.now()
    setattr(order, f"{slot}_approved_by", by)
    setattr(order, f"{slot}_approved_at", now)
    fields = [f"{slot}_approved_by", f"{slot}_approved_at"]
    if order.procurement_approved_by_id and order.finance_approved_by_id:
        order.status = PurchaseOrder.Status.APPROVED
        order.approved_at = now
        fields += ["status", "approved_at"]
    order.save(update_fields=fields)
    application = order.application
    trail.record(
        action="purchase_order_approved",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        data={
            "purchase_order": order.pk,
            "number": order.number,
            "as": slot,
            "status": order.status,
            "before": before,
            "after": {"status": order.status, f"{slot}_approved_by": by.pk},
        },
    )
    return order
