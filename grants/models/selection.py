"""Selecting fairly: what a programme manager decides beside the workflow's rules."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HouseholdOverride(models.Model):
    """A programme manager lets one application be approved although the same person or
    household already holds a grant of the programme (the rule ONE_GRANT_PER_HOUSEHOLD),
    for the reason given. Recorded once per application; the audit trail has it too."""

    application = models.OneToOneField(
        "grants.GrantApplication", on_delete=models.CASCADE, related_name="household_override"
    )
    reason = models.TextField(_("reason"), max_length=2000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"household override of application {self.application_id}"
