"""The audit trail's tables: an append-only, hash-chained event per write, the free text
of each event beside the chain (so erasure can remove it), and the chain's head.

They belong to the grants app (app_label): their tables, migrations, content types and
permissions (grants.view_auditevent) are where production has them. The code lives here,
below every app, because every app writes to the trail; the relations to applications
and applicants are named by string, so nothing here imports an app.
"""

import hashlib
import hmac
import json
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


ERASED_TEXT = "(erased)"


class AuditEvent(models.Model):
    """Append-only, hash-chained record of who did what, when, from which state to which.

    Each row's hash covers its own content and the previous row's hash, so an edited,
    inserted or deleted row breaks the chain (`manage.py verify_audit`). Free text
    (comments, reasons) is not in the row: it is an AuditText beside it, and the hash
    covers only the text's keyed digest, so erasure can delete the text and the chain
    still proves itself."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    on_behalf_of = models.ForeignKey(
        "applicants.Applicant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        "grants.GrantApplication",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    applicant = models.ForeignKey(
        "applicants.Applicant", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(max_length=60, db_index=True)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    text_digest = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 of the free text under its own salt; empty: none."
    )
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        app_label = "grants"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["application", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @property
    def actor_name(self):
        """Who acted: the username the chain keeps for staff, else the account's current
        username (an applicant's, "erased-<id>" after erasure; load it with
        select_related("actor"))."""
        if self.actor_username or self.actor_id is None:
            return self.actor_username
        return self.actor.username

    @property
    def comment(self):
        """The event's free text, read from beside the chain (load it with
        select_related("free_text")); "(erased)" once erasure removed it."""
        if not self.text_digest:
            return ""
        try:
            return self.free_text.text
        except AuditText.DoesNotExist:
            return ERASED_TEXT

    def canonical(self):
        return json.dumps(
            {
                "at": self.at.isoformat(),
                "actor": self.actor_id,
                "actor_username": self.actor_username,
                "on_behalf_of": self.on_behalf_of_id,
                "application": self.application_id,
                "applicant": self.applicant_id,
                "action": self.action,
                "from_state": self.from_state,
                "to_state": self.to_state,
                "text_digest": self.text_digest,
                "data": self.data,
                "prev_hash": self.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def compute_hash(self):
        return hashlib.sha256(self.canonical().encode()).hexdigest()


class AuditText(models.Model):
    """The free text of one audit event, beside the chain. Its random salt keys the
    digest the chain holds: a short text (a phone number, a name) cannot be confirmed by
    hashing guesses, and once erasure deletes this row nothing of the text is left."""

    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.CASCADE, related_name="free_text"
    )
    text = models.TextField()
    salt = models.CharField(max_length=64)

    class Meta:
        app_label = "grants"

    def __str__(self):
        return f"text of audit event {self.event_id}"

    @staticmethod
    def digest(text, salt):
        return hmac.new(bytes.fromhex(salt), text.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def new_salt():
        return secrets.token_hex(32)


class AuditChainHead(models.Model):
    """One row holding the newest event's hash; locking it orders concurrent appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        app_label = "grants"

    def __str__(self):
        return self.last_hash
