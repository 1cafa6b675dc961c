"""Writes of complaints: each in one transaction with its audit event; the person and
staff are told after commit (complaints.notify).

The audit events name the case by id only (`data={"complaint": id}`), never its category,
centre, application or person: the trail is read by staff who may not know that a case
of sexual misconduct or abuse of power exists."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants import roles
from audit import trail
from audit.models import ERASED_TEXT
from core.errors import ServiceError, checked_text, require
from grants.models import Notification

from . import attachments, notify, permissions
from .models import Category, Channel, Complaint, ComplaintAttachment, ComplaintNote, Status, code_digest

# No 0/O, 1/I/L: read out over the phone and typed on a phone without mistakes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
ERASED = ERASED_TEXT


def new_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def default_owner(*, category, centre, about_user=None):
    """The focal point for its category, else the centre's programme manager (the first
    by id), never the person the complaint is about. None when there is nobody."""
    users = get_user_model().objects.filter(is_active=True)
    if category == Category.SAFEGUARDING:
        role = roles.SAFEGUARDING_FOCAL_POINT
    else:
        role = roles.PROGRAMME_MANAGER
        users = users.filter(assignments__centre=centre)
    users = users.filter(
        groups__permissions__content_type__app_label="applicants",
        groups__permissions__codename=f"role_{role}",
    )
    if about_user is not None:
        users = users.exclude(pk=about_user.pk)
    return users.distinct().order_by("pk").first()


def submit_complaint(
    *,
    by,
    channel,
    category,
    description,
    language,
    centre=None,
    application=None,
    applicant=None,
    about_user=None,
    name="",
    email="",
    phone="",
    attachment=None,
):
    """Record a complaint; returns (complaint, follow-up code). `by` is the signed-in
    person or staff member, None for the public form. The attachment (an uploaded file)
    is checked and stored before the transaction; if the row is not saved it is removed."""
    if category not in Category.values:
        raise ServiceError(
            _("Choose a category."), code="category", details={"category": [_("Choose a category.")]}
        )
    if channel not in Channel.values:
        raise ServiceError(_("Unknown channel."), code="channel")
    if centre is None and category != Category.SAFEGUARDING:
        raise ServiceError(
            _("Choose the centre the complaint is about."),
            code="centre_required",
            details={"centre": [_("Choose the centre the complaint is about.")]},
        )
    fields = Complaint._meta
    description = checked_text(description, fields.get_field("description"))
    if not description:
        raise ServiceError(
            _("Tell us what happened."),
            code="description",
            details={"description": [_("Tell us what happened.")]},
        )
    name = checked_text(name, fields.get_field("name"))
    email = checked_text(email, fields.get_field("email"))
    phone = checked_text(phone, fields.get_field("phone"))
    stored = None
    if attachment is not None:
        stream, content_type = attachments.checked(attachment)
        try:
            stored = attachments.store(attachment, stream, content_type)
        finally:
            if stream is not attachment:
                stream.close()
    code = new_code()
    now = timezone.now()
    try:
        with transaction.atomic():
            complaint = Complaint.objects.create(
                reference=f"pending-{secrets.token_hex(6)}",
                code_digest="",
                category=category,
                channel=channel,
                centre=centre,
                application=application,
                applicant=applicant,
                about_user=about_user,
                name=name,
                email=email,
                phone=phone,
                language=language,
                description=description,
                owner=default_owner(category=category, centre=centre, about_user=about_user),
                recorded_by=by if getattr(by, "pk", None) else None,
                received_at=now,
                acknowledge_by=now + timedelta(days=settings.COMPLAINT_ACKNOWLEDGE_DAYS),
                resolve_by=now + timedelta(days=settings.COMPLAINT_RESOLVE_DAYS),
            )
            complaint.reference = f"C-{now.year}-{complaint.pk:06d}"
            complaint.code_digest = code_digest(code)
            complaint.save(update_fields=["reference", "code_digest"])
            if stored is not None:
                stored.complaint = complaint
                stored.save()
            trail.record(
                action="complaint_received",
                actor=by,
                data={"complaint": complaint.pk, "attachments": 1 if stored else 0},
            )
            transaction.on_commit(lambda: notify.tell_person(complaint.pk, notify.RECEIVED))
    except Exception:
        if stored is not None:
            attachments.delete_objects([stored.file.name])
        raise
    return complaint, code


def _locked(complaint, by):
    complaint = (
        Complaint.objects.select_for_update(of=("self",)).select_related("application").get(pk=complaint.pk)
    )
    require(permissions.can_handle(by, complaint))
    return complaint


@transaction.atomic
def acknowledge_complaint(*, complaint, by):
    complaint = _locked(complaint, by)
    if complaint.status != Status.RECEIVED:
        raise ServiceError(_("This complaint was already acknowledged."), code="already_acknowledged")
    complaint.status = Status.ACKNOWLEDGED
    complaint.acknowledged_at = timezone.now()
    if complaint.owner_id is None:
        complaint.owner = by
    complaint.save(update_fields=["status", "acknowledged_at", "owner"])
    trail.record(
        action="complaint_acknowledged",
        actor=by,
        from_state=Status.RECEIVED,
        to_state=Status.ACKNOWLEDGED,
        data={"complaint": complaint.pk},
    )
    transaction.on_commit(lambda: notify.tell_person(complaint.pk, notify.ACKNOWLEDGED))
    return complaint


@transaction.atomic
def add_note(*, complaint, by, text):
    complaint = _locked(complaint, by)
    text = checked_text(text, ComplaintNote._meta.get_field("text"))
    if not text:
        raise ServiceError(_("Write the note."), code="empty", details={"text": [_("Write the note.")]})
    note = ComplaintNote.objects.create(complaint=complaint, author=by, text=text)
    trail.record(action="complaint_note_added", actor=by, data={"complaint": complaint.pk, "note": note.pk})
    return note


@transaction.atomic
def resolve_complaint(*, complaint, by, outcome):
    complaint = _locked(complaint, by)
    if complaint.status == Status.RESOLVED:
        raise ServiceError(_("This complaint is already resolved."), code="already_resolved")
    outcome = checked_text(outcome, Complaint._meta.get_field("outcome"))
    if not outcome:
        raise ServiceError(
            _("Write the outcome the person will be told."),
            code="outcome_required",
            details={"outcome": [_("Write the outcome the person will be told.")]},
        )
    source = complaint.status
    now = timezone.now()
    complaint.status = Status.RESOLVED
    complaint.resolved_at = now
    complaint.acknowledged_at = complaint.acknowledged_at or now
    complaint.outcome = outcome
    complaint.save(update_fields=["status", "resolved_at", "acknowledged_at", "outcome"])
    trail.record(
        action="complaint_resolved",
        actor=by,
        from_state=source,
        to_state=Status.RESOLVED,
        data={"complaint": complaint.pk},
    )
    transaction.on_commit(lambda: notify.tell_person(complaint.pk, notify.RESOLVED))
    return complaint


def escalate_overdue(*, now=None):
    """Escalate every overdue case not escalated before, once each (the conditional
    update claims it, so two runs at once escalate it once). Returns how many."""
    now = now or timezone.now()
    escalated = 0
    for pk in list(
        Complaint.objects.overdue(now).filter(escalated_at__isnull=True).values_list("pk", flat=True)
    ):
        with transaction.atomic():
            claimed = Complaint.objects.filter(pk=pk, escalated_at__isnull=True).update(escalated_at=now)
            if not claimed:
                continue
            complaint = Complaint.objects.select_related("centre__country", "application").get(pk=pk)
            trail.record(
                action="complaint_escalated",
                data={
                    "complaint": pk,
                    "before": {"escalated_at": None},
                    "after": {"escalated_at": now.isoformat()},
                },
            )
            transaction.on_commit(lambda complaint=complaint: notify.tell_escalation(complaint))
        escalated += 1
    return escalated


# ---- personal data (privacy/) -------------------------------------------------------------


def _anonymise(complaints, by, reason):
    """Blank what identifies the person and what they wrote; category, centre and dates
    stay for the register. Returns the names of the stored files to delete after commit."""
    ids = list(complaints.values_list("pk", flat=True))
    if not ids:
        return []
    attached = ComplaintAttachment.objects.filter(complaint_id__in=ids)
    names = list(attached.values_list("file", flat=True))
    attached.delete()
    ComplaintNote.objects.filter(complaint_id__in=ids).update(text=ERASED)
    Complaint.objects.filter(pk__in=ids).update(
        name="",
        email="",
        phone="",
        description=ERASED,
        outcome=ERASED,
        applicant=None,
        anonymised_at=timezone.now(),
    )
    # The messages to the person name their address and quote the outcome.
    Notification.objects.filter(key__regex=rf"^complaint-[a-z]+:({'|'.join(map(str, ids))})$").update(
        email="", subject=ERASED, body=ERASED, last_error=""
    )
    trail.record(
        action="complaints_anonymised",
        actor=by,
        comment=reason,
        data={"complaints": ids, "attachments_deleted": len(names)},
    )
    return names


def anonymise_complaints_of(*, applicant, by=None, reason):
    """Erasure of a person (privacy.subjects.erase_applicant): their complaints, within
    the caller's transaction; the stored files go after commit."""
    names = _anonymise(Complaint.objects.filter(applicant=applicant, anonymised_at__isnull=True), by, reason)
    transaction.on_commit(lambda: attachments.delete_objects(names))
    return len(names)


def apply_complaint_retention(*, now=None):
    """Anonymise the complaints resolved more than RETENTION_DAYS ago. Returns their count."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)
    due = Complaint.objects.filter(anonymised_at__isnull=True, resolved_at__lt=cutoff)
    count = due.count()
    with transaction.atomic():
        names = _anonymise(
            due,
            None,
            _("Retention: the complaint was resolved more than %(days)s days ago.")
            % {"days": settings.RETENTION_DAYS},
        )
        transaction.on_commit(lambda: attachments.delete_objects(names))
    return count


def record_attachment_download(*, attachment, by):
    """The permission check and the audit event of reading an attachment."""
    require(permissions.can_view(by, attachment.complaint))
    trail.record(
        action="complaint_attachment_downloaded",
        actor=by,
        data={"complaint": attachment.complaint_id, "attachment": attachment.pk},
    )
