"""The grant contract's writes from the application page: payments of the own
contribution and their reversals (finance, managers), the business's registration
(field officers). The contract PDF and the signed copy go through the API's PDF and the
page's document upload (kind "signed_contract")."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from applicants.roles import role_required
from core.errors import ServiceError, require
from core.web import error_messages

from .. import permissions, services
from ..forms import ContributionPaymentForm, ContributionReversalForm, RegistrationForm
from ..models import ContributionPayment
from .common import visible_application


def _back(pk):
    return redirect(reverse("application-detail", args=[pk]) + "#contract-title")


def _refused(request, pk, errors):
    # To the top of the page, where the error summary says what was refused.
    for message in errors:
        messages.error(request, message)
    return redirect("application-detail", pk=pk)


def _form_errors(form):
    return [
        f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    ]


@role_required(roles.FINANCE_OFFICER, roles.PROGRAMME_MANAGER)
@require_POST
def contribution_new(request, pk):
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_record_payment(user, application))
    form = ContributionPaymentForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, _form_errors(form))
    try:
        services.record_contribution_payment(application=application, by=user, **form.cleaned_data)
    except ServiceError as exc:
        return _refused(request, pk, error_messages(exc))
    messages.success(request, _("The payment was recorded."))
    return _back(pk)


@role_required(roles.FINANCE_OFFICER, roles.PROGRAMME_MANAGER)
@require_POST
def contribution_reverse(request, pk):
    user = request.user
    payment = get_object_or_404(ContributionPayment, pk=pk)
    application = visible_application(user, payment.application_id)
    require(permissions.can_record_payment(user, application))
    form = ContributionReversalForm(request.POST)
    if not form.is_valid():
        return _refused(request, application.pk, _form_errors(form))
    try:
        services.reverse_contribution_payment(payment=payment, by=user, reason=form.cleaned_data["reason"])
    except ServiceError as exc:
        return _refused(request, application.pk, error_messages(exc))
    messages.success(request, _("The payment was reversed."))
    return _back(application.pk)


@role_required(roles.FIELD_OFFICER)
@require_POST
def registration(request, pk):
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_record_registration(user, application))
    form = RegistrationForm(request.POST)
    if not form.is_valid():
        return _refused(request, pk, _form_errors(form))
    try:
        services.record_registration(application=application, by=user, **form.cleaned_data)
    except ServiceError as exc:
        return _refused(request, pk, error_messages(exc))
    messages.success(request, _("The business registration was recorded."))
    return _back(pk)
