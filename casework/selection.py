"""The application page's part in selecting fairly: grants already held by the same
person or household, and a programme manager's override of that rule."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applicants import roles
from core.errors import ServiceError
from core.web import error_messages
from grants import households, permissions, services, workflow
from grants.forms import HouseholdOverrideForm
from grants.views.common import visible_application
from grants.workflow import State

# Before the approval the page says so: from the draft (a warning while it can still
# change) to the approval, which the rule refuses.
UNDECIDED = (State.DRAFT, State.SUBMITTED, State.BUSINESS_TRAINING)


def household_section(user, application, *, override_form=None):
    """The grants the same person or household already holds in the programme, the
    override if one was recorded, and the manager's form to record one."""
    if application.state not in UNDECIDED or not roles.sees_personal_data(user):
        return {}
    override = application.household_override if households.is_overridden(application) else None
    found = workflow.household_conflicts(application)
    can_override = (
        bool(found) and override is None and permissions.can_override_household(user, application).allowed
    )
    return {
        "household_conflicts": [{"pk": pk, "reason": households.REASONS[reason]} for pk, reason in found],
        "household_override": override,
        "can_override_household": can_override,
        "household_form": (override_form or HouseholdOverrideForm()) if can_override else None,
    }


@roles.role_required(roles.PROGRAMME_MANAGER)
@require_POST
def household_override(request, pk):
    user = request.user
    application = visible_application(user, pk)
    form = HouseholdOverrideForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("reason", []):
            messages.error(request, error)
        return redirect("application-detail", pk=pk)
    try:
        services.record_household_override(
            application=application, by=user, reason=form.cleaned_data["reason"]
        )
    except ServiceError as exc:
        for error in error_messages(exc):
            messages.error(request, error)
        return redirect("application-detail", pk=pk)
    messages.success(request, _("A second grant in this household is allowed for this application."))
    return redirect("application-detail", pk=pk)
