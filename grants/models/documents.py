"""Documents kept for an application (their files live in the storage, grants.documents)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import Applicant


class DocumentKind(models.TextChoices):
    ID_DOCUMENT = "id_document", _("ID document")
    BUSINESS_PLAN = "business_plan", _("Business plan")
    RELEASE_CERTIFICATE = "release_certificate", _("Release certificate")
    RETURN_CERTIFICATE = "return_certificate", _("Return certificate")
    SUPPLIER_QUOTE = "supplier_quote", _("Supplier quote")
    HANDOVER_PROTOCOL = "handover_protocol", _("Handover protocol")
    SIGNED_CONTRACT = "signed_contract", _("Signed grant contract")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


def document_key(instance, filename):
    # Never a user-supplied path: a random key under the month.
    now = timezone.now()
    return f"documents/{now:%Y/%m}/{uuid.uuid4().hex}"


class Document(models.Model):
    application = models.ForeignKey(
        "grants.GrantApplication", on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind)
    file = models.FileField(upload_to=document_key, max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        Applicant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "sha256"], name="document_unique_per_application"),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"
