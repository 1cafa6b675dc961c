"""Finance pages: the budget per programme, deliveries with their handover protocols,
recording a delivery, the commitments ledger and the exports."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from applicants import roles
from applicants.roles import role_required
from core.errors import ServiceError, require
from core.web import error_messages, paginate

from .. import ledger, permissions, selectors, services
from ..forms import DeliveryForm, DeliveryLineFormSet
from ..models import Commitment, PurchaseOrder
from ..workflow import State
from .common import visible_application

FINANCE_ROLES = (roles.FINANCE_OFFICER, roles.PROGRAMME_MANAGER)


@role_required(*FINANCE_ROLES)
def deliveries(request):
    user = request.user
    require(permissions.can_view_finance(user))
    waiting = list(selectors.awaiting_delivery(user)[:100])
    page = paginate(request, selectors.deliveries_for(user))
    return render(request, "grants/delivery_list.html", {"waiting": waiting, "page": page})


@role_required(roles.FINANCE_OFFICER, roles.FIELD_OFFICER)
def delivery_new(request, pk):
    """Record one delivery (some or all of the items still due). The grant moves to
    "equipment delivered" by itself once everything is handed over and the signed
    handover protocol is on file."""
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_record_delivery_lines(user, application))
    if application.state != State.APPROVED:
        messages.error(request, _("Deliveries are recorded for approved grants only."))
        return redirect("application-detail", pk=pk)
    items = application.undelivered_items()
    by_id = {item.pk: item for item in items}
    initial = [{"item": item.pk, "quantity": item.quantity_due} for item in items]
    orders = list(
        application.purchase_orders.filter(status=PurchaseOrder.Status.APPROVED).select_related("supplier")
    )
    errors = []
    status = 200
    if request.method == "POST":
        form = DeliveryForm(request.POST, orders=orders)
        formset = DeliveryLineFormSet(request.POST, initial=initial, prefix="lines")
        if form.is_valid() and formset.is_valid():
            lines = [
                {
                    "item": line.cleaned_data["item"],
                    "quantity": line.cleaned_data["quantity"],
                    "actual_unit_cost": line.cleaned_data["actual_unit_cost"],
                }
                for line in formset.forms
                if line.cleaned_data.get("quantity")
            ]
            if not lines:
                errors, status = [_("Enter the quantity of at least one item delivered now.")], 400
            else:
                try:
                    services.record_delivery_lines(
                        application=application, by=user, lines=lines, **form.cleaned_data
                    )
                except ServiceError as exc:
                    errors, status = error_messages(exc), exc.status
                else:
                    application.refresh_from_db(fields=["state"])
                    if application.state == State.EQUIPMENT_DELIVERED:
                        messages.success(request, _("Delivery recorded. Everything is handed over."))
                    else:
                        messages.success(
                            request,
                            _(
                                "Delivery recorded. The grant moves on once every item is handed over "
                                "and the signed handover protocol is uploaded."
                            ),
                        )
                    return redirect("application-detail", pk=pk)
        else:
            status = 400
    else:
        form = DeliveryForm(orders=orders)
        formset = DeliveryLineFormSet(initial=initial, prefix="lines")
    rows = []
    for line in formset.forms:
        raw = line["item"].value()
        try:
            item = by_id.get(int(raw))
        except (TypeError, ValueError):
            item = None
        rows.append({"form": line, "item": item})
    return render(
        request,
        "grants/delivery_form.html",
        {
            "application": application,
            "form": form,
            "formset": formset,
            "rows": rows,
            "errors": errors,
            "has_protocol": application.documents.filter(kind="handover_protocol").exists(),
            "needs_order": application.programme.requires_purchase_orders,
        },
        status=status,
    )


@role_required(*FINANCE_ROLES)
def commitments(request):
    user = request.user
    require(permissions.can_view_finance(user))
    page = paginate(request, selectors.commitments_for(user))
    # (a release's reason is the cancellation's comment, free text about a person)
    return render(
        request,
        "grants/commitment_ledger.html",
        {"page": page, "can_export_lines": True, "shows_names": roles.sees_names(user)},
    )


@role_required(*FINANCE_ROLES)
def application_ledger(request, pk):
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_view_ledger(user, application))
    return render(
        request,
        "grants/application_ledger.html",
        {
            "application": application,
            "ledger": ledger.application_ledger(application, reader=user),
            "statuses": dict(Commitment.Status.choices),
        },
    )
