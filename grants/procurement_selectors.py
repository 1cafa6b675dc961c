"""Procurement reads, filtered by permission in the database: the supplier register (one
for all programmes, for the roles that read it), a grant's quotes and the purchase orders
of the user's centres."""

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from applicants import roles

from .models import ConflictDeclaration, PurchaseOrder, Supplier, SupplierQuote
from .selectors import applications_for
from .workflow import State


def suppliers_for(user, *, status=None, q=None):
    """The register, each supplier with `quote_count`, `order_count` and whether `user`
    declared a conflict with it (`conflicted`)."""
    if not (roles.is_staff_member(user) and user.has_perm("grants.view_supplier")):
        return Supplier.objects.none()
    qs = Supplier.objects.annotate(
        quote_count=Count("quotes", distinct=True),
        order_count=Count("purchase_orders", distinct=True),
        conflicted=Exists(ConflictDeclaration.objects.filter(supplier=OuterRef("pk"), user_id=user.pk)),
    )
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(tax_number__icontains=q))
    return qs.order_by("name", "id")


def vetted_suppliers():
    return Supplier.objects.filter(status=Supplier.Status.APPROVED).order_by("name", "id")


def conflicts_of(supplier, user):
    """The declarations on a supplier: all of them for roles that read declarations,
    otherwise the user's own."""
    qs = ConflictDeclaration.objects.filter(supplier=supplier).select_related("user")
    if not user.has_perm("grants.view_conflictdeclaration"):
        qs = qs.filter(user_id=user.pk)
    return qs.order_by("-declared_on", "id")


def items_with_quotes(application):
    """The grant's items, each with its quotes (cheapest first) and their suppliers, in
    two queries."""
    quotes = SupplierQuote.objects.select_related("supplier", "purchase_order").order_by("unit_price", "id")
    return application.items.order_by("position", "id").prefetch_related(Prefetch("quotes", queryset=quotes))


def purchase_orders_for(user, *, status=None, application=None):
    """Orders of grants the user may see, for roles that read procurement."""
    if not (roles.is_staff_member(user) and user.has_perm("grants.view_purchaseorder")):
        return PurchaseOrder.objects.none()
    qs = PurchaseOrder.objects.filter(application__in=applications_for(user).values("pk"))
    if status:
        qs = qs.filter(status=status)
    if application is not None:
        qs = qs.filter(application=application)
    return qs.select_related(
        "supplier", "programme", "application", "created_by", "procurement_approved_by", "finance_approved_by"
    ).order_by("-created_at", "-id")


def grants_to_buy_for(user):
    """Approved grants of the user's centres, with how many items have a chosen quote."""
    if not (roles.is_staff_member(user) and user.has_perm("grants.view_purchaseorder")):
        return applications_for(user).none()
    return (
        applications_for(user)
        .filter(state=State.APPROVED)
        .select_related("programme")
        .annotate(
            item_count=Count("items", distinct=True),
            chosen_count=Count("items__quotes", filter=Q(items__quotes__chosen=True), distinct=True),
        )
        .order_by("approved_at", "id")
    )
