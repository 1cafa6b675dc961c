"""What became of a referral partner's referrals (docs/permissions.md, "Referral
partners"): the people an outside organisation referred, by reference only (no name,
no sensitive fact), with the centre's public label and each grant's programme (public
label) and state. Read through `referrals_for`, filtered in the database."""

from django.db.models import Prefetch

from applicants import roles
from applicants.models import Applicant

from .models import GrantApplication


def referrals_for(user):
    """The people referred by the organisations the user is a member of (referral
    partners only), newest first, with their applications."""
    if not (user.is_authenticated and roles.has_role(user, roles.REFERRAL_PARTNER)):
        return Applicant.objects.none()
    return (
        Applicant.objects.filter(referred_by__members=user, pseudonymised_at__isnull=True)
        .select_related("centre", "referred_by")
        .prefetch_related(
            Prefetch(
                "applications",
                queryset=GrantApplication.objects.select_related("programme").order_by("created_at", "id"),
            )
        )
        .order_by("-created_at", "-id")
    )


def referral_row(applicant):
    """One referral as the partner reads it."""
    return {
        "reference": applicant.pk,
        "partner": applicant.referred_by.name,
        "registered_on": applicant.created_at.date(),
        "centre": str(applicant.centre.public_label),
        "applications": [
            {
                "id": application.pk,
                "programme": str(application.programme.public_label),
                "state": application.state,
                "state_label": str(application.get_state_display()),
            }
            for application in applicant.applications.all()
        ],
    }
