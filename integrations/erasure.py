"""An erased person's copies kept by the integrations (applicants.signals.person_erased):

- a form server's submissions about their applications keep the instance id (so a
  resend is still recognised and not applied again) but not the answers as posted,
  whose notes and photos' names may say anything; one still waiting for a correction is
  dismissed, as nothing can be applied from it any more;
- the answers stored for idempotent replays (kept IDEMPOTENCY_KEY_HOURS) that are about
  the person keep their status, so a retry still has no second effect, but their body
  says the data was erased instead of repeating it."""

import json
import re

from django.db.models import Q
from django.utils import timezone

from audit.models import ERASED_TEXT

from . import kobo
from .models import FormSubmission, IdempotentRequest

ERASED_PAYLOAD = {"erased": True}
ERASED_ANSWER = json.dumps(
    {"detail": "This answer named a person whose data was since erased.", "code": "erased"}
).encode()
# A phone, national id or e-mail shorter than this is not one: it would match anything.
MIN_IDENTIFIER = 5


def erase_copies(sender, *, applicant, application_ids, former, by=None, **kwargs):
    _erase_submissions(application_ids, by)
    _erase_stored_answers(applicant, application_ids, former)


def _erase_submissions(application_ids, by):
    ids = set(application_ids)
    if not ids:
        return
    numbers = {str(i) for i in ids}
    linked = set(
        FormSubmission.objects.filter(
            Q(application_id__in=ids) | Q(visit__application_id__in=ids)
        ).values_list("pk", flat=True)
    )
    # Refused before an application could be read: the posted number says whose it was.
    for pk, payload in FormSubmission.objects.filter(
        application__isnull=True, visit__isnull=True
    ).values_list("pk", "payload"):
        if (
            isinstance(payload, dict)
            and str(kobo.flatten(payload).get(kobo.APPLICATION, "")).strip() in numbers
        ):
            linked.add(pk)
    if not linked:
        return
    now = timezone.now()
    submissions = FormSubmission.objects.filter(pk__in=linked)
    submissions.filter(status=FormSubmission.Status.REFUSED).update(
        status=FormSubmission.Status.DISMISSED, resolved_by=by, resolved_at=now, resolution=ERASED_TEXT
    )
    submissions.exclude(resolution="").update(resolution=ERASED_TEXT)
    submissions.update(payload=ERASED_PAYLOAD, reason="")


def _erase_stored_answers(applicant, application_ids, former):
    about = [f"/applicants/{applicant.pk}/"] + [f"/applications/{pk}/" for pk in application_ids]
    reference = re.compile("|".join(re.escape(a) for a in about))
    user_scope = f"user:{applicant.user_id}" if applicant.user_id else None
    hit = []
    rows = IdempotentRequest.objects.exclude(body=ERASED_ANSWER).values_list(
        "pk", "scope", "path", "location", "body"
    )
    for pk, scope, path, location, body in rows.iterator(chunk_size=500):
        if (
            scope == user_scope
            or reference.search(path)
            or reference.search(location)
            or _names(bytes(body or b"").decode("utf-8", "replace").casefold(), former)
        ):
            hit.append(pk)
    IdempotentRequest.objects.filter(pk__in=hit).update(body=ERASED_ANSWER, content_type="application/json")


def _names(text, former):
    """Whether an answer names the person: their phone, national id or e-mail anywhere in
    it, or their first and last name each as a whole value (or together), not a first
    name alone that someone else may share."""
    unique = [former.get(k, "") for k in ("phone", "national_id", "email")]
    if any(len(value) >= MIN_IDENTIFIER and value.casefold() in text for value in unique):
        return True
    first, last = former.get("first_name", "").casefold(), former.get("last_name", "").casefold()
    if not first or not last:
        return False
    quoted = [json.dumps(value, ensure_ascii=False) for value in (first, last)]
    return f"{first} {last}" in text or all(value in text for value in quoted)
