"""Data-subject rights and retention: everything about one applicant in one ZIP, erasure
by pseudonymisation, and the retention rule that pseudonymises people whose grants ended
long ago. Financial and aggregate facts stay (amounts, items, deliveries, target groups,
household, scores, visit figures); what identifies the person, their sensitive facts,
free texts about them and their documents go. The audit trail is append-only and keeps
its rows: they point at the pseudonymised record."""

import io
import json
import logging
import re
import zipfile
from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from applicants import roles
from applicants.models import (
    ApiToken,
    Applicant,
    ApplicantSensitive,
    ConsentRecord,
    DuplicateFlag,
    Institution,
)
from applicants.selectors import centre_ids
from applicants.sensitivity import sensitive_values
from applicants.signals import person_erased
from assessments.models import Assessment, MonitoringVisit
from audit import trail
from audit.models import ERASED_TEXT, AuditEvent, AuditText
from complaints.selectors import complaints_data
from complaints.services import anonymise_complaints_of
from core.errors import ServiceError
from grants.documents import download_filename
from grants.models import Commitment, Document, GrantApplication, Notification
from grants.workflow import State

log = logging.getLogger(__name__)

PERSONAL_FIELDS = [
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "consent_disability_at",
    "phone",
    "national_id",
    "email",
    "municipality",
    "address",
    "target_groups",
    "household_size",
    "household_ref",
    "dependants",
    "language",
    "accepts_email",
    "accepts_sms",
    "channels_recorded_at",
    "created_at",
    "pseudonymised_at",
]


def can_export(user, applicant):
    """(allowed, visible, reason): the centre's programme managers, with the export
    permission, export one person's data; nobody else learns the export exists."""
    if not user.is_authenticated or not roles.is_staff_member(user):
        return False, False, _("Not found.")
    if applicant.centre_id not in centre_ids(user):
        return False, False, _("Not found.")
    if not (
        roles.has_role(user, roles.PROGRAMME_MANAGER) and user.has_perm("applicants.export_personal_data")
    ):
        return False, True, _("Only the centre's programme managers export a person's data.")
    return True, True, ""


# ---- export ---------------------------------------------------------------------------


def applicant_data(applicant):
    """Everything stored about `applicant`, as plain data (documents as metadata)."""

    sensitive = ApplicantSensitive.objects.filter(applicant=applicant).first()
    applications = (
        applicant.applications.select_related("programme", "centre")
        .prefetch_related(
            "items",
            "deliveries__lines",
            "documents",
            "assessments__scores__criterion",
            "visits",
            "enrolments__cohort",
            "enrolments__attendance__session",
        )
        .order_by("id")
    )
    user = applicant.user
    return {
        "exported_at": timezone.now(),
        "applicant": {"id": applicant.pk, **{f: getattr(applicant, f) for f in PERSONAL_FIELDS}},
        "account": None
        if user is None
        else {
            "username": user.username,
            "email": user.email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "sensitive": None
        if sensitive is None
        else {
            **sensitive_values(sensitive),
            "referral_name": sensitive.referral.name if sensitive.referral_id else None,
            "referral_review": sensitive.referral_review or None,
        },
        "centre": applicant.centre.name,
        # The institution the person is the contact person of, if any.
        "institution": _institution_data(applicant),
        "consents": [
            {
                "purpose": c.purpose,
                "version": c.version,
                "language": c.language,
                "wording": c.wording,
                "given_at": c.given_at,
                "on_behalf": c.on_behalf,
                "withdrawn_at": c.withdrawn_at,
            }
            for c in ConsentRecord.objects.filter(applicant=applicant).order_by("given_at")
        ],
        "applications": [_application_data(a) for a in applications],
        # Training joined without a grant application (training as a service).
        "training": [
            {
                "course": e.cohort.title,
                "sessions": [{"date": a.session.date, "present": a.present} for a in e.attendance.all()],
            }
            for e in applicant.direct_enrolments.select_related("cohort").prefetch_related(
                "attendance__session"
            )
        ],
        "messages": [
            {
                "channel": n.channel,
                "to": n.email or n.phone,
                "language": n.language,
                "subject": n.subject,
                "text": n.body,
                "queued_at": n.created_at,
                "status": n.status,
                "sent_at": n.sent_at,
                "delivery": n.delivery,
                "delivered_at": n.delivered_at,
            }
            for n in Notification.objects.filter(applicant=applicant).order_by("created_at", "id")
        ],
        "complaints": complaints_data(applicant),
        "history": [
            {
                "at": e.at,
                "actor": e.actor_name,
                "action": e.action,
                "application": e.application_id,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "comment": e.comment,
            }
            for e in AuditEvent.objects.filter(Q(applicant=applicant) | Q(application__applicant=applicant))
            .select_related("actor", "free_text")
            .order_by("at", "id")
        ],
    }


def _institution_data(applicant):
    if not applicant.is_institution_contact:
        return None
    institution = Institution.objects.filter(contact=applicant).first()
    if institution is None:
        return None
    return {"id": institution.pk, "name": institution.name, "kind": institution.kind}


def _application_data(application):
    return {
        "id": application.pk,
        "programme": application.programme.name,
        "centre": application.centre.name,
        "state": application.state,
        "business_name": application.business_name,
        "sector": application.sector,
        "is_cooperative": application.is_cooperative,
        "plan": {
            "activity": application.activity,
            "market": application.market,
            "experience": application.experience,
            "expected_monthly_revenue": application.expected_monthly_revenue,
            "expected_monthly_costs": application.expected_monthly_costs,
            "jobs_planned": application.jobs_planned,
        },
        "items": [
            {"description": i.description, "quantity": i.quantity, "unit_cost": i.unit_cost}
            for i in application.items.all()
        ],
        "requested_total": application.requested_total,
        "approved_amount": application.approved_amount,
        "submitted_at": application.submitted_at,
        "approved_at": application.approved_at,
        "delivered_at": application.delivered_at,
        "closed_at": application.closed_at,
        "closing_reason": application.closing_reason,
        "training": [
            {
                "course": e.cohort.title,
                "sessions": [{"date": a.session.date, "present": a.present} for a in e.attendance.all()],
            }
            for e in application.enrolments.all()
        ],
        "assessments": [
            {
                "recommendation": a.recommendation,
                "reasons": a.reasons,
                "notes": a.notes,
                "weighted_score": a.weighted_score,
                "scores": {s.criterion.criterion: s.score for s in a.scores.all()},
            }
            for a in application.assessments.all()
        ],
        "deliveries": [
            {
                "delivered_on": d.delivered_on,
                "supplier": d.supplier,
                "invoice_number": d.invoice_number,
                "lines": [
                    {
                        "item": line.item_id,
                        "quantity": line.quantity,
                        "actual_unit_cost": line.actual_unit_cost,
                    }
                    for line in d.lines.all()
                ],
            }
            for d in application.deliveries.all()
        ],
        "visits": [
            {
                "months": v.months,
                "due_on": v.due_on,
                "visited_on": v.visited_on,
                "operating": v.operating,
                "equipment_in_use": v.equipment_in_use,
                "monthly_revenue": v.monthly_revenue,
                "notes": v.notes,
            }
            for v in application.visits.all()
        ],
        "documents": [
            {
                "id": doc.pk,
                "file": _document_path(doc),
                "kind": doc.kind,
                "original_name": doc.original_name,
                "content_type": doc.content_type,
                "size": doc.size,
                "sha256": doc.sha256,
                "uploaded_at": doc.created_at,
            }
            for doc in application.documents.all()
        ],
    }


def _document_path(document):

    return f"documents/{document.application_id}/{document.pk}-{download_filename(document)}"


README = """Personal data export

data.json   every record stored about this person: personal details, sensitive facts
            (referral, return, ethnicity) if any, consents with their wording, each
            application with its plan, equipment, training, assessment, deliveries and
            visits, and the history of what was done and by whom.
documents/  every uploaded document, by application, as it was uploaded.
"""


def write_export(applicant, out, *, by=None, via="manager"):
    """Write the ZIP of everything about `applicant` to the binary file `out` and audit
    the export. Documents are copied from storage in chunks (no whole file in memory)."""

    data = applicant_data(applicant)
    documents = list(Document.objects.filter(application__applicant=applicant).order_by("id"))
    missing = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README)
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        for document in documents:
            try:
                with default_storage.open(document.file.name, "rb") as source:
                    with archive.open(_document_path(document), "w", force_zip64=True) as target:
                        for chunk in iter(lambda: source.read(1024 * 1024), b""):
                            target.write(chunk)
            except (FileNotFoundError, OSError) as exc:
                log.error(
                    "export of applicant %s: document %s unreadable: %s", applicant.pk, document.pk, exc
                )
                missing.append(document.pk)
        if missing:
            archive.writestr(
                "MISSING.txt",
                "These documents could not be read from storage: " + ", ".join(map(str, missing)) + "\n",
            )
    trail.record(
        action="personal_data_exported",
        actor=by,
        applicant=applicant,
        data={"documents": len(documents) - len(missing), "missing": missing, "via": via},
    )
    return len(documents) - len(missing)


def export_bytes(applicant, *, by=None, via="manager"):
    buffer = io.BytesIO()
    write_export(applicant, buffer, by=by, via=via)
    return buffer.getvalue()


# ---- erasure ----------------------------------------------------------------------------


@transaction.atomic
def erase_applicant(*, applicant, by=None, reason):
    """Pseudonymise `applicant`: identifying details, sensitive facts, free texts and
    documents go; amounts, items, deliveries, target groups, household and scores stay,
    so budgets and reports add up as before. Refused while an application is open.

    An institution's contact person is a person like any other: their name, numbers,
    account, consents and messages go. The institution's applications are not theirs:
    their texts stay with the person's identifiers taken out, and their documents stay."""

    applicant = Applicant.objects.select_for_update().get(pk=applicant.pk)
    if applicant.pseudonymised_at is not None:
        raise ServiceError(_("This person's data was already erased."), code="already_erased")
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for the erasure (request, retention)."), code="reason_required")
    open_ids = list(applicant.applications.exclude(state__in=State.ENDS).values_list("pk", flat=True))
    if open_ids:
        raise ServiceError(
            _("Applications %(ids)s are still open: withdraw or close them before erasing.")
            % {"ids": ", ".join(f"#{pk}" for pk in open_ids)},
            code="open_applications",
        )

    old_email, old_phone, user = applicant.email, applicant.phone, applicant.user
    former = {
        "first_name": applicant.first_name,
        "last_name": applicant.last_name,
        "phone": applicant.phone,
        "national_id": applicant.national_id,
        "email": old_email,
    }
    identifiers = list(former.values())
    applications = GrantApplication.objects.filter(applicant=applicant)
    application_ids = list(applications.values_list("pk", flat=True))
    if applicant.is_institution_contact:
        # The applications, their documents and texts are the institution's grant
        # records, not the contact person's: they stay, with the person's name and
        # numbers taken out of the texts.
        documents = []
        _scrub_institution_texts(applications, identifiers)
    else:
        documents = list(Document.objects.filter(application__applicant=applicant))
        _erase_application_texts(applications, applicant)
    names = [d.file.name for d in documents]
    Document.objects.filter(pk__in=[d.pk for d in documents]).delete()
    ApplicantSensitive.objects.filter(applicant=applicant).delete()
    DuplicateFlag.objects.filter(Q(applicant=applicant) | Q(other=applicant)).delete()
    # The audit chain holds only digests of these texts: deleting them leaves it provable.
    # A duplicate decision is recorded on the other person's record; its comment is
    # about both of them.
    AuditText.objects.filter(
        Q(event__applicant=applicant)
        | Q(event__application__applicant=applicant)
        | Q(event__on_behalf_of=applicant)
        | Q(event__action="duplicate_decided", event__data__other=applicant.pk)
    ).delete()
    _erase_admin_log(applicant, application_ids, user)
    now = timezone.now()
    ConsentRecord.objects.filter(applicant=applicant, withdrawn_at__isnull=True).update(withdrawn_at=now)

    applicant.first_name = "Erased"
    applicant.last_name = f"applicant {applicant.pk}"
    applicant.name_key = ""
    applicant.date_of_birth = applicant.date_of_birth.replace(month=1, day=1)
    applicant.phone = applicant.national_id = applicant.email = applicant.address = applicant.municipality = (
        applicant.household_ref
    ) = ""
    # The disability answers went with the sensitive facts; their consent goes too. Sex
    # stays, like the target groups, so that the figures by sex add up as before.
    applicant.consent_disability_at = None
    applicant.pseudonymised_at = now
    applicant.accepts_email = applicant.accepts_sms = False
    applicant.save()

    notifications = Q(applicant=applicant)
    if old_email:
        notifications |= Q(email=old_email)
    if old_phone:
        notifications |= Q(phone=old_phone)
    if user is not None:
        notifications |= Q(recipient=user)
        _erase_account(user)
    # Staff reminders name the person and the business; their keys name the visit.
    visit_ids = MonitoringVisit.objects.filter(application__applicant=applicant).values_list("pk", flat=True)
    if visit_ids:
        notifications |= Q(key__regex=rf"^(sms:)?visit-[a-z]+:({'|'.join(map(str, visit_ids))}):")
    # A failed delivery's error may quote the address.
    # (pending ones with them: nothing is sent to an erased person)
    Notification.objects.filter(notifications, status=Notification.Status.PENDING).update(
        status=Notification.Status.FAILED
    )
    Notification.objects.filter(notifications).update(
        email="", phone="", subject=ERASED_TEXT, body=ERASED_TEXT, last_error="", delivery_detail=""
    )

    anonymise_complaints_of(applicant=applicant, by=by, reason=_scrub(reason, identifiers))
    # The copies other parts keep (a form server's submissions, stored API answers).
    person_erased.send(
        sender=Applicant, applicant=applicant, application_ids=application_ids, former=former, by=by
    )
    trail.record(
        action="applicant_pseudonymised",
        actor=by,
        applicant=applicant,
        comment=_scrub(reason, identifiers),
        data={
            "documents_deleted": len(documents),
            "applications": application_ids,
            **({"institution_contact": True} if applicant.is_institution_contact else {}),
        },
    )
    transaction.on_commit(lambda: _delete_objects(names))
    return {"documents_deleted": len(documents)}


def _erase_application_texts(applications, applicant):
    for application in applications:
        GrantApplication.objects.filter(pk=application.pk).update(
            business_name=f"{application.get_sector_display()} business #{application.pk}",
            activity="",
            market="",
            experience="",
            closing_reason=ERASED_TEXT if application.closing_reason else "",
            updated_at=timezone.now(),
        )
    Commitment.objects.filter(application__applicant=applicant).exclude(release_reason="").update(
        release_reason=ERASED_TEXT
    )
    Assessment.objects.filter(application__applicant=applicant).update(notes="", reasons="")
    MonitoringVisit.objects.filter(application__applicant=applicant).update(
        notes="", updated_at=timezone.now()
    )


def _scrub_institution_texts(applications, identifiers):
    """The free texts of an institution's grant, with its contact person's identifiers
    replaced: they describe the institution's project and stay."""
    application_ids = [a.pk for a in applications]
    for queryset, fields in (
        (
            GrantApplication.objects.filter(pk__in=application_ids),
            ["business_name", "activity", "market", "experience", "closing_reason"],
        ),
        (Commitment.objects.filter(application_id__in=application_ids), ["release_reason"]),
        (Assessment.objects.filter(application_id__in=application_ids), ["notes", "reasons"]),
        (MonitoringVisit.objects.filter(application_id__in=application_ids), ["notes"]),
    ):
        stamped = any(field.name == "updated_at" for field in queryset.model._meta.fields)
        for row in queryset.only("pk", *fields):
            scrubbed = {name: _scrub(getattr(row, name), identifiers) for name in fields}
            if any(scrubbed[name] != getattr(row, name) for name in fields):
                # (the change feeds read updated_at: an integration fetches the texts anew)
                touched = {"updated_at": timezone.now()} if stamped else {}
                queryset.filter(pk=row.pk).update(**scrubbed, **touched)


def _scrub(text, identifiers):
    """`text` with each of the person's identifiers replaced: the erasure's own reason
    stays in the trail, the name someone may have written into it does not."""
    for identifier in sorted({i for i in identifiers if i and len(i) > 1}, key=len, reverse=True):
        text = re.sub(re.escape(identifier), ERASED_TEXT, text, flags=re.IGNORECASE)
    return text


def _erase_admin_log(applicant, application_ids, user):
    """The admin's history names what it changed (str() of the person, of the business,
    of the account's username)."""

    records = Q(content_type=ContentType.objects.get_for_model(Applicant), object_id=str(applicant.pk))
    records |= Q(
        content_type=ContentType.objects.get_for_model(GrantApplication),
        object_id__in=[str(pk) for pk in application_ids],
    )
    if user is not None:
        records |= Q(content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk))
    LogEntry.objects.filter(records).update(object_repr=ERASED_TEXT)


def _erase_account(user):

    # Sign-in records name what was typed: the username, in any case, or the e-mail.
    typed = Q(username__iexact=user.username)
    if user.email:
        typed |= Q(username__iexact=user.email)
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(typed).delete()
    ApiToken.objects.filter(user=user).delete()
    TOTPDevice.objects.filter(user=user).delete()
    user.username = f"erased-{user.pk}"
    user.email = user.first_name = user.last_name = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()


def _delete_objects(names):
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # noqa: BLE001 - logged; sweep_orphans removes what is left
            log.exception("could not delete the stored document %s", name)


# ---- retention --------------------------------------------------------------------------


def retention_due(*, now=None):
    """Applicants not yet pseudonymised whose every application ended more than
    RETENTION_DAYS ago (or who never applied and registered that long ago)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    return (
        Applicant.objects.filter(pseudonymised_at__isnull=True, created_at__lt=cutoff)
        .exclude(applications__in=_open_applications())
        .annotate(last_ended=Max(Coalesce("applications__closed_at", "applications__updated_at")))
        .filter(Q(last_ended__isnull=True) | Q(last_ended__lt=cutoff))
        .order_by("pk")
    )


def _open_applications():

    return GrantApplication.objects.exclude(state__in=State.ENDS)


def apply_retention(*, now=None, dry_run=False):
    """Pseudonymise everyone `retention_due`, one transaction each. Returns their ids."""
    ids = list(retention_due(now=now).values_list("pk", flat=True))
    if dry_run:
        return ids
    done = []
    for pk in ids:
        erase_applicant(
            applicant=Applicant(pk=pk),
            reason=_("Retention: the grant ended more than %(days)s days ago.")
            % {"days": settings.RETENTION_DAYS},
        )
        done.append(pk)
    return done
