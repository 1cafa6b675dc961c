"""Scopes by programme, regional programme or donor: a staff member's view narrowed
beyond their centres."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .programmes import Programme, RegionalProgramme


class ProgrammeScope(models.Model):
    """One row narrows `user` to a programme, to every country part of a regional
    programme, or to every programme a donor funds. A user
    with no row sees every programme of their centres (as before); a user with rows sees
    only the programmes they name, still within their centres: a donor's auditor reads the
    figures, exports, trail and API of that donor's programmes only (grants.selectors
    `programme_scope`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="programme_scopes"
    )
    programme = models.ForeignKey(
        Programme, null=True, blank=True, on_delete=models.CASCADE, related_name="scopes"
    )
    regional_programme = models.ForeignKey(
        RegionalProgramme, null=True, blank=True, on_delete=models.CASCADE, related_name="scopes"
    )
    donor = models.CharField(_("donor"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(programme__isnull=False) & Q(regional_programme__isnull=True) & Q(donor=""))
                | (Q(programme__isnull=True) & Q(regional_programme__isnull=False) & Q(donor=""))
                | (Q(programme__isnull=True) & Q(regional_programme__isnull=True) & ~Q(donor="")),
                name="scope_programme_regional_or_donor",
            ),
            models.UniqueConstraint(
                fields=["user", "regional_programme"],
                condition=Q(regional_programme__isnull=False),
                name="scope_unique_regional_programme",
            ),
            models.UniqueConstraint(
                fields=["user", "programme"],
                condition=Q(programme__isnull=False),
                name="scope_unique_programme",
            ),
            models.UniqueConstraint(
                fields=["user", "donor"], condition=~Q(donor=""), name="scope_unique_donor"
            ),
        ]

    def __str__(self):
        named = self.programme_id or (self.regional_programme and self.regional_programme.name) or self.donor
        return f"{self.user_id}: {named}"
