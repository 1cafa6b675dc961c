"""The manager's data-subject export: one person's data and documents as a ZIP; a
person's own consents, asked again when their wording changed."""

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from applicants import consent, roles
from applicants.models import Applicant
from applicants.selectors import applicants_for
from core.errors import ServiceError

from . import consents, subjects


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


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=gettext_lazy("I have read the text above and agree that my data is used this way."),
        error_messages={"required": gettext_lazy("Without your consent we cannot keep your application.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for purpose in consent.ASKED_SPECIAL:
            self.fields[f"consent_{purpose}"] = forms.BooleanField(
                label=consent.special_wording(purpose), required=False
            )

    def special_fields(self):
        return [self[f"consent_{p}"] for p in consent.ASKED_SPECIAL]

    def special(self):
        return {p for p in consent.ASKED_SPECIAL if self.cleaned_data.get(f"consent_{p}")}


@login_required
def consent_renew(request):
    """The person's consents: the current wording to agree to (asked again after a change
    of wording), and each separate consent to give or withdraw (its facts then erased)."""
    applicant = Applicant.objects.select_related("centre__country").filter(user=request.user).first()
    if applicant is None or not roles.has_role(request.user, roles.APPLICANT):
        raise Http404()
    held = consent.current_consents(applicant)
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            try:
                consents.renew_consents(applicant=applicant, by=request.user, special=form.special())
            except ServiceError as exc:
                form.add_error(None, str(exc.message))
                status = 400
            else:
                request.session.pop(consents.SESSION_KEY, None)
                messages.success(request, _("Thank you: your consent is recorded."))
                return redirect("my-applications")
        else:
            status = 400
    else:
        form = ConsentForm(initial={f"consent_{p}": True for p in held if p != consent.GENERAL})
    general = held.get(consent.GENERAL)
    return render(
        request,
        "privacy/consent_renew.html",
        {
            "form": form,
            "paragraphs": consent.general_wording(applicant.centre.country.code),
            "renewal": general is not None and general.version != consent.CONSENT_VERSION,
            "history": [
                (record, consent.PURPOSES.get(record.purpose, record.purpose))
                for record in applicant.consents.order_by("given_at", "pk")
            ],
        },
        status=status,
    )
