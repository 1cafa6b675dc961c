"""The manager's data-subject export: one person's data and documents as a ZIP."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from applicants.selectors import applicants_for

from . import subjects


@require_GET
@login_required
def export_zip(request, pk):
    applicant = applicants_for(request.user).select_related("centre", "user").filter(pk=pk).first()
    if applicant is None:
        raise Http404()
    allowed, visible, reason = subjects.can_export(request.user, applicant)
    if not visible:
        raise Http404()
    if not allowed:
        raise PermissionDenied(reason)
    # Spooled: small exports stay in memory, large ones go to a temporary file.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    subjects.write_export(applicant, out, by=request.user)
    out.seek(0)
    response = FileResponse(
        out, as_attachment=True, filename=f"applicant-{applicant.pk}.zip", content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response
