"""The transfer of a case on the web (docs/permissions.md, "Transfer of a case"): the
transfers from and to one's centres with the sending centre's decision, a field
officer's request that a person be moved to their centre, and a programme manager's
move of a person. Thin: the rules and the writes are grants.services.transfers."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from applicants import roles
from applicants.models import IntegrationCentre
from applicants.roles import role_required
from applicants.selectors import applicants_for, centre_ids, centres_for
from core.errors import ServiceError, require
from core.web import error_messages, paginate
from grants import permissions, selectors, services
from grants.models import CaseTransfer
from grants.workflow import State


class RequestTransferForm(forms.Form):
    """What the sending centre gave the officer: the person's number and date of birth."""

    applicant = forms.IntegerField(label=gettext_lazy("Person's number"), min_value=1)
    date_of_birth = forms.DateField(
        label=gettext_lazy("Date of birth"), widget=forms.DateInput(attrs={"type": "date"})
    )
    to_centre = forms.ModelChoiceField(
        label=gettext_lazy("Move to"), queryset=IntegrationCentre.objects.none(), empty_label=None
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_centre"].queryset = centres_for(user).order_by("name")


class MoveForm(forms.Form):
    to_centre = forms.ModelChoiceField(
        label=gettext_lazy("Move to"), queryset=IntegrationCentre.objects.none(), empty_label=None
    )

    def __init__(self, *args, applicant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_centre"].queryset = (
            IntegrationCentre.objects.filter(country_id=applicant.centre.country_id)
            .exclude(pk=applicant.centre_id)
            .order_by("name")
        )


def _refused(request, exc):
    for error in error_messages(exc):
        messages.error(request, error)


def _list_page(request, form):
    user = request.user
    page = paginate(request, selectors.transfers_for(user).select_related("applicant"))
    mine = centre_ids(user)
    for transfer in page:
        # The name only while the person is at one of the reader's centres: the sending
        # centre's staff know them by the number they gave once the person has moved.
        transfer.shows_name = user.is_superuser or transfer.applicant.centre_id in mine
        transfer.can_decide = (
            transfer.status == CaseTransfer.Status.REQUESTED
            and permissions.can_decide_transfer(user, transfer).allowed
        )
    asks = roles.has_role(user, roles.FIELD_OFFICER)
    return render(
        request,
        "grants/transfer_list.html",
        {"page": page, "request_form": form if asks else None},
        status=400 if form is not None and form.is_bound and form.errors else 200,
    )


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
def transfer_list(request):
    """Transfers from and to the reader's centres; a field officer's request form."""
    return _list_page(request, RequestTransferForm(user=request.user))


@role_required(roles.FIELD_OFFICER)
@require_POST
def transfer_request(request):
    form = RequestTransferForm(request.POST, user=request.user)
    if not form.is_valid():
        return _list_page(request, form)
    data = form.cleaned_data
    try:
        services.request_transfer(
            applicant_id=data["applicant"],
            date_of_birth=data["date_of_birth"],
            to_centre=data["to_centre"],
            by=request.user,
        )
    except Http404:
        form.add_error(
            None,
            _(
                "No person with this number and date of birth can be moved: check both with the sending centre."
            ),
        )
        return _list_page(request, form)
    except ServiceError as exc:
        for error in error_messages(exc):
            form.add_error(None, error)
        return _list_page(request, form)
    messages.success(request, _("Asked. The sending centre confirms or declines the transfer."))
    return redirect("transfer-list")


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER)
@require_POST
def transfer_decide(request, pk):
    transfer = selectors.transfers_for(request.user).select_related("applicant").filter(pk=pk).first()
    if transfer is None:
        raise Http404
    require(permissions.can_decide_transfer(request.user, transfer))
    decision = request.POST.get("decision", "")
    if decision not in ("confirm", "decline"):
        messages.error(request, _("Choose whether to confirm or decline the transfer."))
        return redirect("transfer-list")
    try:
        if decision == "confirm":
            services.confirm_transfer(transfer=transfer, by=request.user)
        else:
            services.decline_transfer(transfer=transfer, by=request.user)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        if decision == "confirm":
            messages.success(request, _("Confirmed: the person and their open applications have moved."))
        else:
            messages.success(request, _("Declined: the person stays with your centre."))
    return redirect("transfer-list")


@role_required(roles.PROGRAMME_MANAGER)
def person_move(request, pk):
    """A programme manager moves a person, with their open applications, at once."""
    applicant = applicants_for(request.user).select_related("centre").filter(pk=pk).first()
    if applicant is None:
        raise Http404
    require(permissions.can_transfer_case(request.user, applicant))
    form = MoveForm(request.POST or None, applicant=applicant)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_case(
                applicant=applicant, to_centre=form.cleaned_data["to_centre"], by=request.user
            )
        except ServiceError as exc:
            for error in error_messages(exc):
                form.add_error(None, error)
        else:
            messages.success(
                request,
                _("%(name)s and their open applications have moved to %(centre)s.")
                % {"name": applicant.full_name, "centre": form.cleaned_data["to_centre"].name},
            )
            return redirect("transfer-list")
    open_count = applicant.applications.exclude(state__in=State.ENDS).count()
    return render(
        request,
        "grants/person_move.html",
        {"applicant": applicant, "form": form, "open_count": open_count},
        status=400 if form.is_bound and form.errors else 200,
    )
