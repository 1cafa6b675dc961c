"""A person's case moving from one centre to another (release from prison to the home
municipality's integration centre): the record that keeps both centres."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import Applicant, IntegrationCentre


class CaseTransfer(models.Model):
    """The person and their open applications go from `from_centre` to `to_centre`.

    A programme manager of the sending centre moves them at once (`done` on creation);
    a field officer of the receiving centre asks (`requested`) and a field officer or
    manager of the sending centre confirms or declines. From the move on, the sending
    centre's staff no longer see the person or the applications that moved (the
    centre is the key of every permission-filtered list); this row and the audit trail
    keep where the case was."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        DONE = "done", _("Transferred")
        DECLINED = "declined", _("Declined")

    applicant = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="transfers")
    from_centre = models.ForeignKey(IntegrationCentre, on_delete=models.PROTECT, related_name="+")
    to_centre = models.ForeignKey(IntegrationCentre, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The ids of the applications that moved with the person (open ones only: a closed
    # grant stays with the centre that ran it, its money and figures included).
    moved_applications = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_centre=F("to_centre")), name="transfer_two_centres"),
            models.UniqueConstraint(
                fields=["applicant"], condition=Q(status="requested"), name="transfer_one_open_request"
            ),
        ]
        indexes = [
            models.Index(fields=["from_centre", "status"]),
            models.Index(fields=["to_centre", "status"]),
        ]

    def __str__(self):
        return f"transfer of applicant {self.applicant_id}: {self.from_centre_id} → {self.to_centre_id}"
