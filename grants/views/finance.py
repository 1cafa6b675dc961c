"""Finance pages: the budget per programme, deliveries with their handover protocols,
recording a delivery, the commitments ledger and the exports."""

import csv
import re

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from applicants import roles
from applicants.roles import role_required
from core.errors import ServiceError, require
from core.web import error_messages, paginate

from .. import ledger, permissions, selectors, services
from ..forms import CostReapprovalForm, DeliveryEntry
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
    handover protocol for the deliveries is on file."""
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_record_delivery_lines(user, application))
    if application.state != State.APPROVED:
        messages.error(request, _("Deliveries are recorded for approved grants only."))
        return redirect("application-detail", pk=pk)
    orders = application.purchase_orders.filter(status=PurchaseOrder.Status.APPROVED).select_related(
        "supplier"
    )
    entry = DeliveryEntry(request.POST or None, items=application.undelivered_items(), orders=list(orders))
    if request.method == "POST" and entry.is_valid():
        try:
            services.record_delivery_lines(
                application=application, by=user, lines=entry.lines(), **entry.header()
            )
        except ServiceError as exc:
            entry.refuse(error_messages(exc), exc.status)
        else:
            application.refresh_from_db(fields=["state"])
            messages.success(request, _delivered_message(application))
            return redirect("application-detail", pk=pk)
    return render(
        request,
        "grants/delivery_form.html",
        {
            "application": application,
            "form": entry.form,
            "formset": entry.formset,
            "rows": entry.rows(),
            "errors": entry.errors,
            "has_protocol": selectors.has_handover_protocol(application),
            "needs_order": application.programme.requires_purchase_orders,
        },
        status=entry.status,
    )


def _delivered_message(application):
    if application.state == State.EQUIPMENT_DELIVERED:
        return _("Delivery recorded. Everything is handed over.")
    return _(
        "Delivery recorded. The grant moves on once every item is handed over "
        "and the signed handover protocol is uploaded."
    )


@role_required(roles.PROGRAMME_MANAGER)
def cost_reapproval(request, pk):
    """A programme manager re-approves what the grant's deliveries may cost."""
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_reapprove_cost(user, application))
    form = CostReapprovalForm(request.POST or None)
    errors, status = [], 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.reapprove_cost(application=application, by=user, **form.cleaned_data)
            except ServiceError as exc:
                errors, status = error_messages(exc), exc.status
            else:
                messages.success(request, _("The cost is re-approved."))
                return redirect("application-ledger-page", pk=pk)
        else:
            status = 400
    factor, within_tolerance, ceiling = services.cost_limits(application)
    return render(
        request,
        "grants/cost_reapproval_form.html",
        {
            "application": application,
            "form": form,
            "errors": errors,
            "within_tolerance": within_tolerance,
            "ceiling": ceiling,
            "delivered": services.delivered_cost(application),
            "reapprovals": application.cost_reapprovals.select_related("approved_by")[:20],
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
            "can_reapprove": application.state == State.APPROVED
            and bool(permissions.can_reapprove_cost(user, application)),
        },
    )


ASSET_COLUMNS = (
    "grant",
    "business",
    "item",
    "quantity",
    "serial_number",
    "asset_tag",
    "delivered_on",
    "supplier",
    "value",
    "currency",
    "reallocated_from_grant",
    "ownership_passed_on",
    "outcome",
    "outcome_on",
    "proceeds",
    "reallocated_to_grant",
)


def _asset_row(line):
    delivery = line.delivery
    moved_to = getattr(line, "reallocated_to", None)
    return {
        "grant": delivery.application_id,
        "business": delivery.application.business_name,
        "item": line.item.description,
        "quantity": line.quantity,
        "serial_number": line.serial_number,
        "asset_tag": line.asset_tag,
        "delivered_on": delivery.delivered_on,
        "supplier": delivery.supplier,
        "value": line.value,
        "currency": delivery.application.programme.currency,
        "reallocated_from_grant": line.reallocated_from.delivery.application_id
        if line.reallocated_from_id
        else None,
        "ownership_passed_on": line.ownership_passed_on,
        "outcome": line.get_outcome_display() if line.outcome else "",
        "outcome_on": line.outcome_on,
        "proceeds": line.proceeds,
        "reallocated_to_grant": moved_to.delivery.application_id if moved_to else None,
    }


@role_required(*FINANCE_ROLES)
def assets(request):
    """The asset register: every delivered item of the grants the user may open, with
    its serial number or asset tag, value, ownership and outcome; `?format=csv` exports
    it whole (docs/reports.md, "Asset register")."""
    user = request.user
    require(permissions.can_view_finance(user))
    lines = selectors.asset_register(user)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="asset-register.csv"'
        response["Cache-Control"] = "private, no-store"
        writer = csv.writer(response)
        writer.writerow(ASSET_COLUMNS)
        for line in lines.iterator(chunk_size=500):
            row = _asset_row(line)
            writer.writerow([_csv_cell(row[column]) for column in ASSET_COLUMNS])
        return response
    page = paginate(request, lines)
    return render(
        request, "grants/asset_register.html", {"page": page, "rows": [_asset_row(line) for line in page]}
    )


def _csv_cell(value):
    """Text as is, but never a formula a spreadsheet would run (CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text):
    return re.fullmatch(r"-?\d+(\.\d+)?", text) is not None
