"""Procurement pages: the supplier register (list, filter, register, edit, vet, declare a
conflict), the approved grants to buy for, a grant's quotes per item (add, choose), its
purchase orders (create, approve, PDF) and the list of orders."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from applicants.roles import role_required
from core.errors import ServiceError, require
from core.web import error_messages, paginate

from .. import procurement_permissions as rules
from .. import procurement_selectors as selectors
from .. import purchase_order_pdf
from ..models import PurchaseOrder, Supplier, SupplierQuote
from ..procurement_forms import ChooseForm, ConflictForm, QuoteForm, SupplierFilterForm, SupplierForm, VetForm
from ..services import procurement as services
from .common import visible_application

READERS = (roles.PROCUREMENT_OFFICER, roles.FINANCE_OFFICER, roles.PROGRAMME_MANAGER)


def _supplier(user, pk):
    require(rules.can_view_suppliers(user))
    return get_object_or_404(Supplier, pk=pk)


@role_required(*READERS)
def suppliers(request):
    user = request.user
    require(rules.can_view_suppliers(user))
    form = SupplierFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(request, selectors.suppliers_for(user, status=filters.get("status"), q=filters.get("q")))
    return render(
        request,
        "grants/supplier_list.html",
        {"form": form, "page": page, "can_manage": bool(rules.can_manage_suppliers(user))},
    )


@role_required(roles.PROCUREMENT_OFFICER)
def supplier_edit(request, pk=None):
    user = request.user
    require(rules.can_manage_suppliers(user))
    supplier = get_object_or_404(Supplier, pk=pk) if pk else None
    errors, status = [], 200
    if request.method == "POST":
        form = SupplierForm(request.POST)
        if form.is_valid():
            try:
                supplier = services.save_supplier(by=user, supplier=supplier, **form.cleaned_data)
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("Supplier saved."))
                return redirect("procurement-supplier", pk=supplier.pk)
        else:
            status = 400
    else:
        initial = {}
        if supplier is not None:
            initial = {name: getattr(supplier, name) for name in ("name", "tax_number", "address", "iban")}
        form = SupplierForm(initial=initial)
    return render(
        request,
        "grants/supplier_form.html",
        {"form": form, "supplier": supplier, "errors": errors},
        status=status,
    )


@role_required(*READERS)
def supplier_detail(request, pk):
    user = request.user
    supplier = _supplier(user, pk)
    return render(
        request,
        "grants/supplier_detail.html",
        {
            "supplier": supplier,
            "conflicts": selectors.conflicts_of(supplier, user),
            "vet_form": VetForm(initial={"status": supplier.status}),
            "conflict_form": ConflictForm(),
            "can_vet": rules.can_vet_supplier(user, supplier),
            "can_manage": bool(rules.can_manage_suppliers(user)),
            "can_declare": bool(rules.can_declare_conflict(user)),
        },
    )


@require_POST
@role_required(roles.PROCUREMENT_OFFICER)
def supplier_vet(request, pk):
    user = request.user
    supplier = _supplier(user, pk)
    form = VetForm(request.POST)
    if form.is_valid():
        try:
            services.vet_supplier(supplier=supplier, by=user, status=form.cleaned_data["status"])
        except ServiceError as exc:
            for message in error_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, _("Vetting status saved."))
    return redirect("procurement-supplier", pk=pk)


@require_POST
@role_required(*READERS)
def supplier_conflict(request, pk):
    user = request.user
    supplier = _supplier(user, pk)
    form = ConflictForm(request.POST)
    if form.is_valid():
        services.declare_conflict(by=user, supplier=supplier, note=form.cleaned_data["note"])
        messages.success(request, _("Your conflict of interest is declared."))
    else:
        messages.error(request, _("The note is too long."))
    return redirect("procurement-supplier", pk=pk)


@role_required(*READERS)
def overview(request):
    """The approved grants to buy for, and the purchase orders waiting for approval."""
    user = request.user
    if not user.has_perm("grants.view_purchaseorder"):
        raise Http404
    grants = paginate(request, selectors.grants_to_buy_for(user))
    waiting = list(selectors.purchase_orders_for(user, status=PurchaseOrder.Status.PENDING)[:100])
    return render(request, "grants/procurement_overview.html", {"page": grants, "waiting": waiting})


@role_required(*READERS)
def purchase_orders(request):
    user = request.user
    if not user.has_perm("grants.view_purchaseorder"):
        raise Http404
    status = request.GET.get("status") if request.GET.get("status") in PurchaseOrder.Status.values else None
    page = paginate(request, selectors.purchase_orders_for(user, status=status))
    return render(request, "grants/purchase_order_list.html", {"page": page, "status": status})


@transaction.non_atomic_requests  # the quote's upload manages its own transactions
@role_required(*READERS)
def grant(request, pk):
    """One approved grant: its items with their quotes, the quote form, the orders."""
    user = request.user
    application = visible_application(user, pk)
    require(rules.can_view_procurement(user, application))
    errors, status = [], 200
    may_buy = rules.can_add_quote(user, application)
    items = list(selectors.items_with_quotes(application))
    suppliers = list(selectors.vetted_suppliers()) if may_buy else []
    form = QuoteForm(items=items, suppliers=suppliers)
    if request.method == "POST":
        form = QuoteForm(request.POST, request.FILES, items=items, suppliers=suppliers)
        if form.is_valid():
            values = form.cleaned_data
            try:
                services.add_quote(
                    item=next(item for item in items if item.pk == values["item"]),
                    supplier=next(s for s in suppliers if s.pk == values["supplier"]),
                    by=user,
                    unit_price=values["unit_price"],
                    quoted_on=values["quoted_on"],
                    valid_until=values["valid_until"],
                    uploaded_file=values["file"],
                )
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("Quote added."))
                return redirect("procurement-grant", pk=pk)
        else:
            status = 400
    for item in items:
        quotes = list(item.quotes.all())
        item.quote_list = quotes
        item.cheapest = min((q.unit_price for q in quotes), default=None)
        item.needed = services.quotes_needed(item, application.programme)
        item.comparable = sum(1 for q in quotes if q.supplier.is_vetted)
    waiting_suppliers = {
        q.supplier for item in items for q in item.quote_list if q.chosen and q.purchase_order_id is None
    }
    return render(
        request,
        "grants/procurement_grant.html",
        {
            "application": application,
            "items": items,
            "form": form,
            "choose_form": ChooseForm(),
            "may_buy": may_buy,
            "to_order": sorted(waiting_suppliers, key=lambda s: s.name),
            "orders": selectors.purchase_orders_for(user, application=application),
            "errors": errors,
        },
        status=status,
    )


def _quote(user, pk):
    quote = get_object_or_404(SupplierQuote.objects.select_related("item", "supplier"), pk=pk)
    application = visible_application(user, quote.item.application_id)
    return quote, application


@require_POST
@role_required(roles.PROCUREMENT_OFFICER)
def quote_choose(request, pk):
    user = request.user
    quote, application = _quote(user, pk)
    form = ChooseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The justification is too long."))
        return redirect("procurement-grant", pk=application.pk)
    try:
        services.choose_quote(quote=quote, by=user, justification=form.cleaned_data["justification"])
    except ServiceError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Quote chosen."))
    return redirect("procurement-grant", pk=application.pk)


@require_POST
@role_required(roles.PROCUREMENT_OFFICER)
def order_create(request, pk, supplier_pk):
    user = request.user
    application = visible_application(user, pk)
    supplier = _supplier(user, supplier_pk)
    try:
        order = services.create_purchase_order(application=application, supplier=supplier, by=user)
    except ServiceError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("Purchase order %(number)s created.") % {"number": order.number})
    return redirect("procurement-grant", pk=pk)


def _order(user, pk):
    order = get_object_or_404(selectors.purchase_orders_for(user).select_related("programme__country"), pk=pk)
    return order


@require_POST
@role_required(roles.PROCUREMENT_OFFICER, roles.FINANCE_OFFICER)
def order_approve(request, pk):
    user = request.user
    order = _order(user, pk)
    try:
        order = services.approve_purchase_order(order=order, by=user)
    except ServiceError as exc:
        for message in error_messages(exc):
            messages.error(request, message)
    else:
        if order.is_approved:
            messages.success(request, _("Purchase order approved: the supplier may deliver."))
        else:
            messages.success(request, _("Your approval is recorded; the order needs the second one."))
    return redirect("procurement-grant", pk=order.application_id)


@role_required(*READERS)
def order_pdf(request, pk):
    user = request.user
    order = _order(user, pk)
    content = purchase_order_pdf.purchase_order_for(order=order, by=user)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{order.number}.pdf"'
    return response
