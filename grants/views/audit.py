"""The audit trail in the browser, for the roles that read it (the auditor above all):
the query and filters of the audit API (`grants.selectors.audit_trail`), each role
reading what the API gives it — the auditor no names, comments or applicants."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from applicants import roles
from applicants.roles import role_required
from core.errors import require
from core.web import paginate_uncounted

from .. import permissions, selectors
from ..forms import AuditTrailFilter
from ..models import STATE_LABELS
from . import timeline


def _row(event, personal):
    row = {
        "at": event.at,
        "action": timeline.label(event.action),
        "application": event.application_id,
        "from_state": STATE_LABELS.get(event.from_state, event.from_state),
        "to_state": STATE_LABELS.get(event.to_state, event.to_state),
    }
    if personal:
        row["actor"] = event.actor_name
        row["applicant"] = event.applicant.full_name if event.applicant_id else ""
        row["on_behalf_of"] = event.on_behalf_of.full_name if event.on_behalf_of_id else ""
        row["comment"] = event.comment
    else:
        row["actor"] = selectors.audit_actor(event, _("the applicant"))
    return row


@role_required(roles.FIELD_OFFICER, roles.PROGRAMME_MANAGER, roles.AUDITOR)
def audit_trail(request):
    user = request.user
    require(permissions.can_read_audit_trail(user))
    form = AuditTrailFilter(request.GET or None, action_labels=timeline.ACTION_LABELS)
    filters = {}
    if form.is_bound and form.is_valid():
        filters = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
    status = 400 if form.is_bound and form.errors else 200
    personal = user.is_superuser or roles.sees_personal_data(user)
    page = paginate_uncounted(request, selectors.audit_trail(user, **filters) if status == 200 else [])
    rows = [_row(event, personal) for event in page]
    return render(
        request,
        "grants/audit_trail.html",
        {"form": form, "page": page, "rows": rows, "personal": personal},
        status=status,
    )
