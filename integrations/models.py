import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import ServiceAccount


class IdempotentRequest(models.Model):
    """One write sent with an `Idempotency-Key`: the first answer, kept to be given again.

    The row is written in the same transaction as the write itself, so either both are
    there or neither is: a retry after a lost answer replays the stored answer, and a
    retry after a failure (5xx, a crash) runs the request afresh."""

    scope = models.CharField(max_length=64, help_text="Whose key: the user the request was made as.")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path and body.")
    status = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=200, blank=True)
    location = models.CharField(max_length=2000, blank=True)
    body = models.BinaryField(blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"


def new_secret():
    return secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    """Where a service account wants to be told of events (integrations.webhooks)."""

    account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="The event names it receives.")
    secret = models.CharField(
        max_length=64, default=new_secret, help_text="Signs each delivery (HMAC-SHA256)."
    )
    active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: its payload as sent, and every attempt's outcome."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    audit_event_id = models.BigIntegerField(help_text="The audit event it tells of.")
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "audit_event_id"], name="one_delivery_per_event_and_endpoint"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} to {self.endpoint_id} ({self.status})"


class FormSubmission(models.Model):
    """A form server's submission (KoboToolbox, ODK) of the monitoring-visit form, kept as
    it was posted, once per instance id and account however often it comes
    (integrations.intake). Recorded: it became its visit. Refused: kept with the reason
    for a person of the centre to correct and apply again, or to dismiss."""

    class Status(models.TextChoices):
        RECORDED = "recorded", _("recorded")
        REFUSED = "refused", _("refused")
        DISMISSED = "dismissed", _("dismissed")

    account = models.ForeignKey(ServiceAccount, on_delete=models.PROTECT, related_name="submissions")
    instance_id = models.CharField(max_length=100)
    payload = models.JSONField(help_text="The submission as the form server posted it.")
    received_at = models.DateTimeField(default=timezone.now)
    last_posted_at = models.DateTimeField(default=timezone.now)
    times_posted = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REFUSED)
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    centre = models.ForeignKey(
        "applicants.IntegrationCentre",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Whose staff fix it: the application's centre, else the account's first.",
    )
    application = models.ForeignKey(
        "grants.GrantApplication", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    visit = models.ForeignKey(
        "assessments.MonitoringVisit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrections = models.JSONField(
        default=dict, blank=True, help_text='{"application", "months"} a person set.'
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, max_length=500)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "instance_id"], name="submission_once_per_account"),
        ]
        indexes = [models.Index(fields=["centre", "status", "-received_at"])]

    def __str__(self):
        return f"{self.instance_id} ({self.status})"
