"""Writes to people and places: registering applicants, consent, staff assignments."""

import datetime

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm, remove_perm

from audit import trail
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from core.errors import NotAllowed, ServiceError, checked_text, require, too_long

from . import roles
from .consent import CONSENT_VERSION, GENERAL, SPECIAL_PURPOSES, consent_wording, needed_purposes
from .duplicates import (
    DEFAULT_PURPOSE,
    PURPOSES,
    DuplicateCheck,
    count_duplicate_check,
    find_possible_duplicates,
)
from .models import (
    Applicant,
    ApplicantSensitive,
    ConsentRecord,
    DuplicateFlag,
    IntegrationCentreUserObjectPermission,
    Language,
    StaffAssignment,
    TargetGroup,
)
from .normalise import InvalidPhone, name_key, normalise_national_id, normalise_phone
from .selectors import applicants_for, centre_ids

SENSITIVE_FIELDS = ("referral_institution", "release_month", "returned_from", "return_date", "ethnicity")


@transaction.atomic
def assign_staff(*, user, centre, by=None):
    """Make `user` work for `centre`: the assignment and the guardian permission together."""
    assignment, _created = StaffAssignment.objects.get_or_create(
        user=user, centre=centre, defaults={"assigned_by": by}
    )
    assign_perm("applicants.access_centre", user, centre)
    trail.record(action="staff_assigned", actor=by, data={"user": user.pk, "centre": centre.pk})
    return assignment


@transaction.atomic
def unassign_staff(*, user, centre, by=None):
    StaffAssignment.objects.filter(user=user, centre=centre).delete()
    remove_perm("applicants.access_centre", user, centre)
    trail.record(action="staff_unassigned", actor=by, data={"user": user.pk, "centre": centre.pk})


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


def can_register(user, centre):
    """Field officers register people at their centres; a person may register themselves."""

    if user is None or not user.is_authenticated:
        return NOT_VISIBLE
    if not (roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("applicants.add_applicant")):
        return Decision(False, _("Only field officers register applicants."))
    if centre.pk not in centre_ids(user):
        return Decision(False, _("Choose one of your centres."))
    return ALLOWED


def _invalid(field, message):

    return ServiceError(message, details={field: [message]})


def clean_registration(
    *,
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
    household_ref="",
):
    """The registration's values, normalised, or ServiceError naming the field: shared by
    the form, the API and the spreadsheet import so that all three refuse the same input."""
    names = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        value = str(value or "").strip()
        if not value or any(ord(ch) < 32 for ch in value) or not any(ch.isalpha() for ch in value):
            raise _invalid(field, _("Write the name in letters."))
        if len(value) > 100:
            raise _invalid(field, _("Names have at most 100 characters."))
        names[field] = value
    if not isinstance(date_of_birth, datetime.date) or isinstance(date_of_birth, datetime.datetime):
        raise _invalid("date_of_birth", _("Enter the date of birth as a date, such as 1990-03-02."))
    if date_of_birth > timezone.localdate() or date_of_birth.year < 1900:
        raise _invalid("date_of_birth", _("Enter a real date of birth."))
    groups = list(dict.fromkeys(target_groups or []))
    if not groups or any(g not in TargetGroup.values for g in groups):
        raise _invalid(
            "target_groups",
            _(
                "Choose at least one target group: returnee, person released from prison or socially "
                "disadvantaged."
            ),
        )
    try:
        phone = normalise_phone(phone, centre.country.code)
    except InvalidPhone as exc:
        raise _invalid("phone", str(exc)) from None
    email = str(email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _invalid("email", _("Enter a valid email address.")) from None
    try:
        household_size, dependants = int(household_size), int(dependants)
    except (TypeError, ValueError):
        raise _invalid("household_size", _("Household size and dependants are whole numbers.")) from None
    if not 1 <= household_size <= 50:
        raise _invalid("household_size", _("The household has from 1 to 50 people."))
    if not 0 <= dependants <= 50:
        raise _invalid("dependants", _("Dependants are from 0 to 50 people."))
    if language not in Language.values:
        raise _invalid("language", _("The language is en, sr-latn or sq."))
    return {
        **names,
        "date_of_birth": date_of_birth,
        "phone": phone,
        "national_id": normalise_national_id(national_id),
        "email": email,
        "municipality": checked_text(municipality, Applicant._meta.get_field("municipality")),
        "address": checked_text(address, Applicant._meta.get_field("address")),
        "household_ref": checked_text(household_ref, Applicant._meta.get_field("household_ref")),
        "household_size": household_size,
        "dependants": dependants,
        "language": language,
        "target_groups": groups,
    }


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
    household_ref="",
    consent_given=False,
    special_consents=(),
    sensitive=None,
    user=None,
):
    """Register a person: a field officer for them (often), or the person themselves.

    Refuses without consent: nothing is stored before the person agreed. Possible
    duplicates are flagged (DuplicateFlag, pending) for an officer to decide, never
    merged; they are also on the returned object as `possible_duplicates`.

    Prison, return and ethnicity facts (the target group included) are stored only with
    their own consent among `special_consents` (applicants.consent.SPECIAL_PURPOSES)."""
    if user is None or by is None or by.pk != user.pk:
        require(can_register(by, centre))
    values = clean_registration(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        centre=centre,
        target_groups=target_groups,
        phone=phone,
        national_id=national_id,
        email=email or (user.email if user else ""),
        municipality=municipality,
        address=address,
        household_size=household_size,
        dependants=dependants,
        language=language,
        household_ref=household_ref,
    )
    if not consent_given:
        raise _invalid("consent_given", _("The applicant's consent is needed before their data is stored."))
    special_consents = set(special_consents or ())
    if special_consents - set(SPECIAL_PURPOSES):
        raise _invalid("special_consents", _("Unknown consent."))
    sensitive = {k: v for k, v in (sensitive or {}).items() if k in SENSITIVE_FIELDS and v}
    _require_special_consents(values["target_groups"], sensitive, special_consents)
    groups = values.pop("target_groups")
    applicant = Applicant(
        user=user, centre=centre, created_by=by, **values, **Applicant.target_group_flags(groups)
    )
    applicant.name_key = name_key(applicant.first_name, applicant.last_name)
    duplicates = find_possible_duplicates(
        first_name=applicant.first_name,
        last_name=applicant.last_name,
        date_of_birth=applicant.date_of_birth,
        phone=applicant.phone,
        national_id=applicant.national_id,
    )
    applicant.save()
    if sensitive:
        ApplicantSensitive.objects.create(applicant=applicant, **sensitive)
    DuplicateFlag.objects.bulk_create(
        [DuplicateFlag(applicant=applicant, other=other, reasons=reasons) for other, reasons in duplicates]
    )
    on_behalf = by is not None and by != user
    for purpose in [GENERAL, *sorted(special_consents)]:
        record_consent(applicant=applicant, by=by, purpose=purpose, on_behalf=on_behalf)
    if user is not None:
        assign_perm("applicants.view_applicant", user, applicant)
    trail.record(
        action="register_applicant",
        actor=by,
        applicant=applicant,
        on_behalf_of=applicant if by is not None and by != user else None,
        data={
            "possible_duplicates": [o.pk for o, _r in duplicates],
            "sensitive_fields": sorted(sensitive),
            "consents": [GENERAL, *sorted(special_consents)],
        },
    )
    applicant.possible_duplicates = duplicates
    return applicant


@transaction.atomic
def check_possible_duplicates(
    *,
    by,
    first_name,
    last_name,
    date_of_birth,
    phone="",
    national_id="",
    region=None,
    purpose=DEFAULT_PURPOSE,
):
    """Who may already be registered, asked by field officer `by` before a registration
    (applicants.duplicates: people of their centres by name, elsewhere only "a possible
    match exists"). Counted against the per-user limit (TooManyChecks) and audited with
    the purpose, the number of matches and their kinds, never what was searched for."""
    if not (roles.has_role(by, roles.FIELD_OFFICER) and by.has_perm("applicants.add_applicant")):
        raise NotAllowed(_("Only field officers register applicants."))
    if purpose not in PURPOSES:
        message = _("Say why you check: registration or manual check.")
        raise ServiceError(message, code="purpose", details={"purpose": [message]})
    count_duplicate_check(by)
    found = find_possible_duplicates(
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone,
        national_id=national_id,
        region=region,
    )
    visible = set(applicants_for(by).filter(pk__in=[o.pk for o, _r in found]).values_list("pk", flat=True))
    here = [(other, reasons) for other, reasons in found if other.pk in visible]
    elsewhere = len(here) < len(found)
    trail.record(
        action="duplicate_check",
        actor=by,
        data={
            "purpose": purpose,
            "matches_here": len(here),
            "match_elsewhere": elsewhere,
            "match_kinds": sorted({reason for _other, reasons in found for reason in reasons}),
        },
    )
    return DuplicateCheck(here=here, elsewhere=elsewhere)


SPECIAL_CONSENT_MISSING = {
    "prison": (
        "target_groups",
        gettext_lazy("Release from prison is only recorded with its own consent: tick it too."),
    ),
    "return": (
        "target_groups",
        gettext_lazy("Return from abroad is only recorded with its own consent: tick it too."),
    ),
    "ethnicity": ("ethnicity", gettext_lazy("Ethnicity is only recorded with its own consent: tick it too.")),
    "disability": (
        "special_consents",
        gettext_lazy("Disability is only recorded with its own consent: tick it too."),
    ),
}


def _require_special_consents(target_groups, sensitive, given):
    """ServiceError naming the field whose fact lacks its special consent."""
    missing = sorted(needed_purposes(target_groups=target_groups, sensitive=sensitive) - set(given))
    if missing:
        purpose = missing[0]
        field, message = SPECIAL_CONSENT_MISSING[purpose]
        raise ServiceError(str(message), code="special_consent", details={field: [str(message)]})


def record_consent(*, applicant, by, purpose=GENERAL, on_behalf=False):
    """A consent record with the wording the person read, in their language."""
    with translation.override(applicant.language):
        wording = consent_wording(purpose, applicant.centre.country.code)
    return ConsentRecord.objects.create(
        applicant=applicant,
        purpose=purpose,
        wording=wording,
        version=CONSENT_VERSION,
        language=applicant.language,
        recorded_by=by,
        on_behalf=on_behalf,
    )


def can_decide_duplicate(user, flag):

    if not user.is_authenticated or flag.applicant.centre_id not in centre_ids(user):
        return NOT_VISIBLE
    if not (roles.is_staff_member(user) and user.has_perm("applicants.decide_duplicate")):
        return Decision(False, _("Your role cannot decide on duplicates."))
    return ALLOWED


# The longest note an officer keeps with a duplicate decision (in the audit trail).
DUPLICATE_COMMENT_MAX_LENGTH = 2000


@transaction.atomic
def decide_duplicate(*, flag, decision, by, comment=""):
    """Record the officer's decision on a possible duplicate. Nothing is merged: "same
    person" is a fact for the officers (one person, one grant), kept with who said it.
    A decision may be corrected; the audit trail keeps both."""
    flag = DuplicateFlag.objects.select_for_update().select_related("applicant").get(pk=flag.pk)
    require(can_decide_duplicate(by, flag))
    if decision not in (DuplicateFlag.Decision.SAME_PERSON, DuplicateFlag.Decision.DIFFERENT_PERSON):
        raise _invalid("decision", _("Choose “same person” or “different person”."))
    comment = str(comment or "").strip()
    if len(comment) > DUPLICATE_COMMENT_MAX_LENGTH:
        raise too_long(DUPLICATE_COMMENT_MAX_LENGTH, "comment")
    previous = flag.decision
    flag.decision = decision
    flag.decided_by = by
    flag.decided_at = timezone.now()
    flag.save(update_fields=["decision", "decided_by", "decided_at"])
    trail.record(
        action="duplicate_decided",
        actor=by,
        applicant=flag.applicant,
        comment=comment,
        data={
            "flag": flag.pk,
            "other": flag.other_id,
            "decision": decision,
            "previous": previous,
            "before": {"decision": previous},
            "after": {"decision": decision},
        },
    )
    return flag
