"""The programmes with their calls, for programme managers, finance and the auditor."""

from django.db.models import F, Max
from django.shortcuts import render
from django.utils import timezone

from applicants import roles
from applicants.roles import role_required

from .. import selectors


@role_required(roles.PROGRAMME_MANAGER, roles.FINANCE_OFFICER, roles.AUDITOR)
def programmes(request):
    user = request.user
    today = timezone.localdate()
    rows = (
        selectors.programmes_for(user)
        .annotate(last_close=Max("calls__closes"))
        .prefetch_related("calls")
        .order_by(F("last_close").desc(nulls_last=True), "name")
    )
    return render(
        request,
        "grants/programme_list.html",
        {
            "programmes": rows,
            "today": today,
            "can_edit": user.is_staff and user.has_perm("grants.change_programme"),
            # finance and the auditor: labels, and not whom each programme is for
            # (docs/permissions.md)
            "public_labels": roles.uses_public_labels(user),
        },
    )
