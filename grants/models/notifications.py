"""The outbox of notifications, by email or SMS."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """The outbox: what was (or is to be) sent to whom, so that delivery is retried and
    a reminder is sent once however often the job runs."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Delivery(models.TextChoices):
        """What the SMS provider's delivery report said (Infobip's status groups)."""

        UNKNOWN = "", _("No report yet")
        PENDING = "pending", _("On its way")
        DELIVERED = "delivered", _("Delivered")
        UNDELIVERABLE = "undeliverable", _("Not deliverable")
        EXPIRED = "expired", _("Expired")
        REJECTED = "rejected", _("Rejected")

    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=5, choices=Channel, default=Channel.EMAIL, db_default="email")
    # The person a message to an applicant is about (they may have no account).
    applicant = models.ForeignKey(
        "applicants.Applicant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True, default="", db_default="")
    language = models.CharField(max_length=10, default="en")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # SMS only: the text's encoding and parts (grants.sms), the provider's message id
    # (ours, sent with the message: a retry looks it up before sending again), the
    # delivery report and what the provider charged.
    encoding = models.CharField(max_length=5, blank=True, default="", db_default="")
    segments = models.PositiveSmallIntegerField(default=0, db_default=0)
    provider_message_id = models.CharField(
        max_length=100, blank=True, default="", db_default="", db_index=True
    )
    delivery = models.CharField(max_length=15, choices=Delivery, blank=True, default="", db_default="")
    delivery_detail = models.CharField(max_length=255, blank=True, default="", db_default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=5, null=True, blank=True)
    cost_currency = models.CharField(max_length=3, blank=True, default="", db_default="")

    # Delivery states a later report does not undo.
    FINAL_DELIVERY = ("delivered", "undeliverable", "expired", "rejected")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.key} → {self.email or self.phone} ({self.status})"
