"""Complaints and feedback: a case, its notes and its attachments.

A case about misconduct of a sexual nature or abuse of power (`Category.SAFEGUARDING`)
is read only by the safeguarding focal point (complaints.permissions); every list,
count and export asks `Complaint.objects.ordinary()` or the permission-filtered
selectors, never `Complaint.objects.all()` for people."""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DESCRIPTION_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 2000
OUTCOME_MAX_LENGTH = 2000


class Category(models.TextChoices):
    DECISION = "decision", _("A decision")
    DELAY = "delay", _("Delays")
    EQUIPMENT = "equipment", _("Equipment")
    STAFF_CONDUCT = "staff_conduct", _("Staff conduct")
    OTHER = "other", _("Other")
    SAFEGUARDING = "safeguarding", _("Misconduct of a sexual nature or abuse of power")


class Channel(models.TextChoices):
    PUBLIC_FORM = "public_form", _("Public form")
    ACCOUNT = "account", _("Signed in")
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Visit")
    LETTER = "letter", _("Letter")


STAFF_CHANNELS = (Channel.PHONE, Channel.VISIT, Channel.LETTER)


class Status(models.TextChoices):
    RECEIVED = "received", _("Received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class ComplaintQuerySet(models.QuerySet):
    def ordinary(self):
        return self.exclude(category=Category.SAFEGUARDING)

    def safeguarding(self):
        return self.filter(category=Category.SAFEGUARDING)

    def overdue(self, now=None):
        """Not acknowledged by its acknowledgement deadline, or not resolved by its
        resolution deadline (the SQL of `Complaint.is_overdue`)."""
        now = now or timezone.now()
        return self.filter(overdue_q(now))


def overdue_q(now):
    return Q(status=Status.RECEIVED, acknowledge_by__lt=now) | Q(
        resolve_by__lt=now, status__in=[Status.RECEIVED, Status.ACKNOWLEDGED]
    )


def code_digest(code):
    """The follow-up code is kept only as a keyed digest: a copy of the database does
    not let anyone follow a case up."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"complaint-code:" + code.strip().upper().encode(), hashlib.sha256).hexdigest()


class Complaint(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    code_digest = models.CharField(max_length=64)
    category = models.CharField(_("category"), max_length=20, choices=Category)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.RECEIVED)
    centre = models.ForeignKey(
        "applicants.IntegrationCentre",
        verbose_name=_("centre"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    application = models.ForeignKey(
        "grants.GrantApplication",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    # The person who complains, when they have a record (signed in, or named by staff).
    applicant = models.ForeignKey(
        "applicants.Applicant", null=True, blank=True, on_delete=models.SET_NULL, related_name="complaints"
    )
    # A staff member the complaint is about: never shown the case.
    about_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(max_length=10, default="en")
    description = models.TextField(_("what happened"), max_length=DESCRIPTION_MAX_LENGTH)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_complaints",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(default=timezone.now)
    acknowledge_by = models.DateTimeField()
    resolve_by = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(_("outcome"), max_length=OUTCOME_MAX_LENGTH, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        permissions = [
            ("handle_complaint", "Acknowledge, annotate and resolve complaints"),
            (
                "handle_safeguarding_complaint",
                "Read and handle complaints of sexual misconduct or abuse of power",
            ),
            ("view_complaint_register", "Read the complaints register"),
        ]
        indexes = [models.Index(fields=["category", "status"])]

    def __str__(self):
        return self.reference

    @property
    def is_safeguarding(self):
        return self.category == Category.SAFEGUARDING

    def is_overdue(self, now=None):
        now = now or timezone.now()
        if self.status == Status.RECEIVED and self.acknowledge_by < now:
            return True
        return self.status != Status.RESOLVED and self.resolve_by < now


class ComplaintNote(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(_("note"), max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.complaint} note {self.pk}"


def attachment_key(instance, filename):
    now = timezone.now()
    return f"complaints/{now:%Y/%m}/{uuid.uuid4().hex}"


class ComplaintAttachment(models.Model):
    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_key, max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="complaint_attachment_not_empty")]

    def __str__(self):
        return self.original_name
