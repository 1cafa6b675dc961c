"""Writes to people and places: registering applicants, consent, staff assignments."""

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from . import roles
from .consent import CONSENT_VERSION, consent_wording
from .models import (
    Applicant,
    ApplicantSensitive,
    ConsentRecord,
    DuplicateFlag,
    IntegrationCentreUserObjectPermission,
    StaffAssignment,
)
from .normalise import name_key, normalise_phone
from .selectors import possible_duplicates

SENSITIVE_FIELDS = ("referral_institution", "release_month", "returned_from", "return_date", "ethnicity")


@transaction.atomic
def assign_staff(*, user, centre, by=None):
    """Make `user` work for `centre`: the assignment and the guardian permission together."""
    assignment, _created = StaffAssignment.objects.get_or_create(
        user=user, centre=centre, defaults={"assigned_by": by}
    )
    assign_perm("applicants.access_centre", user, centre)
    _record(action="staff_assigned", actor=by, data={"user": user.pk, "centre": centre.pk})
    return assignment


@transaction.atomic
def unassign_staff(*, user, centre, by=None):
    StaffAssignment.objects.filter(user=user, centre=centre).delete()
    remove_perm("applicants.access_centre", user, centre)
    _record(action="staff_unassigned", actor=by, data={"user": user.pk, "centre": centre.pk})


@transaction.atomic
def sync_staff_permissions(*, user):
    """Repair: guardian's centre rows become exactly the user's assignments."""
    permission = Permission.objects.get(codename="access_centre", content_type__app_label="applicants")
    wanted = set(StaffAssignment.objects.filter(user=user).values_list("centre_id", flat=True))
    rows = IntegrationCentreUserObjectPermission.objects.filter(user=user, permission=permission)
    have = set(rows.values_list("content_object_id", flat=True))
    rows.filter(content_object_id__in=have - wanted).delete()
    IntegrationCentreUserObjectPermission.objects.bulk_create(
        [
            IntegrationCentreUserObjectPermission(user=user, permission=permission, content_object_id=c)
            for c in wanted - have
        ]
    )


def _record(**kwargs):
    from grants import audit

    return audit.record(**kwargs)


@transaction.atomic
def register_applicant(
    *,
    by,
    first_name,
    last_name,
    date_of_birth,
    centre,
    target_groups,
    phone="",
    national_id="",
    email="",
    municipality="",
    address="",
    household_size=1,
    dependants=0,
    language="sr-latn",
    consent_given=False,
    sensitive=None,
    user=None,
):
    """Register a person (an officer for them, or themselves at sign-up). Possible
    duplicates are flagged for an officer to decide, never merged."""
    applicant = Applicant(
        user=user,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
        phone=normalise_phone(phone),
        national_id=(national_id or "").strip(),
        email=email or (user.email if user else ""),
        municipality=municipality,
        address=address,
        centre=centre,
        household_size=household_size,
        dependants=dependants,
        language=language,
        created_by=by,
        **Applicant.target_group_flags(target_groups),
    )
    applicant.name_key = name_key(applicant.first_name, applicant.last_name)
    duplicates = possible_duplicates(
        first_name=applicant.first_name,
        last_name=applicant.last_name,
        date_of_birth=date_of_birth,
        phone=applicant.phone,
        national_id=applicant.national_id,
    )
    applicant.save()
    sensitive = {k: v for k, v in (sensitive or {}).items() if k in SENSITIVE_FIELDS and v}
    if sensitive:
        ApplicantSensitive.objects.create(applicant=applicant, **sensitive)
    for other, reasons in duplicates:
        DuplicateFlag.objects.create(applicant=applicant, other=other, reasons=reasons)
    if consent_given:
        record_consent(applicant=applicant, by=by)
    if user is not None:
        assign_perm("applicants.view_applicant", user, applicant)
    _record(
        action="register_applicant",
        actor=by,
        applicant=applicant,
        on_behalf_of=applicant if by is not None and by != user else None,
        data={"possible_duplicates": [o.pk for o, _r in duplicates], "sensitive_fields": sorted(sensitive)},
    )
    applicant.possible_duplicates = duplicates
    return applicant


def record_consent(*, applicant, by):
    with translation.override(applicant.language):
        wording = consent_wording()
    return ConsentRecord.objects.create(
        applicant=applicant,
        wording=wording,
        version=CONSENT_VERSION,
        language=applicant.language,
        recorded_by=by,
    )


@transaction.atomic
def decide_duplicate(*, flag, decision, by):
    if decision not in (DuplicateFlag.Decision.SAME_PERSON, DuplicateFlag.Decision.DIFFERENT_PERSON):
        from grants.errors import ServiceError

        raise ServiceError(_("Choose “same person” or “different person”."))
    flag.decision = decision
    flag.decided_by = by
    flag.decided_at = timezone.now()
    flag.save(update_fields=["decision", "decided_by", "decided_at"])
    _record(
        action="duplicate_decided",
        actor=by,
        applicant=flag.applicant,
        data={"other": flag.other_id, "decision": decision},
    )
    return flag


def is_staff(user):
    return roles.is_staff_member(user)
