"""The application page's cooperative section: whether it is a cooperative's, its
registration, and its members (added and removed by whoever may edit the draft)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from core.errors import ServiceError, require
from core.web import error_messages
from grants import permissions, services
from grants.forms import CooperativeForm, MemberForm
from grants.views.common import visible_application


def members_section(user, application):
    """The members (names for those who read names), and the editor's forms."""
    can_edit = permissions.can_edit_application(user, application).allowed
    if not application.is_cooperative and not can_edit:
        return {}
    memberships = []
    if application.is_cooperative:
        memberships = list(
            application.memberships.select_related("applicant").order_by(
                "applicant__last_name", "applicant__first_name", "pk"
            )
        )
    asks_birth_date = not roles.is_staff_member(user)
    return {
        "cooperative_section": True,
        "memberships": memberships if roles.sees_names(user) else [],
        "member_count": len(memberships),
        "can_edit_members": can_edit,
        "cooperative_form": CooperativeForm(
            initial={
                "is_cooperative": application.is_cooperative,
                "cooperative_registration_number": application.cooperative_registration_number,
                "cooperative_registered_on": application.cooperative_registered_on,
            }
        )
        if can_edit
        else None,
        "member_form": MemberForm(asks_birth_date=asks_birth_date)
        if can_edit and application.is_cooperative
        else None,
    }


def _refused(request, exc):
    for error in error_messages(exc):
        messages.error(request, error)


def _form_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_POST
def cooperative_save(request, pk):
    user = request.user
    application = visible_application(user, pk)
    form = CooperativeForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("application-detail", pk=pk)
    data = form.cleaned_data
    try:
        services.set_cooperative(
            application=application,
            by=user,
            is_cooperative=data["is_cooperative"],
            number=data["cooperative_registration_number"],
            registered_on=data["cooperative_registered_on"],
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The cooperative's details are saved."))
    return redirect("application-detail", pk=pk)


@login_required
@require_POST
def member_add(request, pk):
    user = request.user
    application = visible_application(user, pk)
    require(permissions.can_edit_application(user, application))
    form = MemberForm(request.POST, asks_birth_date=not roles.is_staff_member(user))
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("application-detail", pk=pk)
    data = form.cleaned_data
    try:
        membership = services.add_member(
            application=application,
            by=user,
            applicant_id=data["applicant"],
            role=data["role"],
            joined_on=data["joined_on"],
            date_of_birth=data.get("date_of_birth"),
        )
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("%(name)s is now a member.") % {"name": membership.applicant.full_name})
    return redirect("application-detail", pk=pk)


@login_required
@require_POST
def member_remove(request, pk, applicant_id):
    user = request.user
    application = visible_application(user, pk)
    try:
        services.remove_member(application=application, by=user, applicant_id=applicant_id)
    except ServiceError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("The member was removed."))
    return redirect("application-detail", pk=pk)
