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
from core.errors import Conflict, NotAllowed, NotVisible, ServiceError, checked_text, require, too_long

from . import referral_institutions, roles, sensitivity
from .consent import CONSENT_VERSION, DISABILITY, GENERAL, SPECIAL_PURPOSES, consent_wording, needed_purposes
from .duplicates import (
    DEFAULT_PURPOSE,
    PURPOSES,
    DuplicateCheck,
    count_duplicate_check,
    find_possible_duplicates,
)
from .models import (
    WG_DOMAINS,
    Applicant,
    ApplicantSensitive,
    ConsentRecord,
    DuplicateFlag,
    IntegrationCentreUserObjectPermission,
    Language,
    ReferralInstitution,
    Sex,
    StaffAssignment,
    StaffProfile,
    TargetGroup,
    WashingtonGroupAnswer,
)
from .normalise import InvalidPhone, name_key, normalise_national_id, normalise_phone
from .selectors import applicants_for, centre_ids

SENSITIVE_FIELDS = (
    "referral",
    "referral_other",
    "release_month",
    "returned_from",
    "return_date",
    "ethnicity",
    *WG_DOMAINS,
)


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
    sex="",
    institution_contact=False,
):
    """The registration's values, normalised, or ServiceError naming the field: shared by
    the form, the API and the spreadsheet import so that all three refuse the same input.
    An institution's contact person (`institution_contact`) is in no target group."""
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
    if institution_contact and groups:
        raise _invalid(
            "target_groups", _("An institution's contact person is not registered in a target group.")
        )
    if not institution_contact and (not groups or any(g not in TargetGroup.values for g in groups)):
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
    sex = str(sex or "").strip()
    if sex and sex not in Sex.values:
        raise _invalid("sex", _("Sex: one of %(values)s, or nothing.") % {"values": ", ".join(Sex.values)})
    return {
        "sex": sex,
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


def clean_disability_answers(sensitive, consent):
    """The Washington Group answers given in `sensitive` ({domain: 1..4}, blanks left
    out), or ServiceError: an answer out of range, or any answer without the person's
    consent to the disability questions."""
    answers = {}
    for domain in WG_DOMAINS:
        value = (sensitive or {}).get(domain)
        if value in (None, ""):
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = None
        if value not in WashingtonGroupAnswer.values:
            raise _invalid(domain, _("Answer from 1 (no difficulty) to 4 (cannot do at all)."))
        answers[domain] = value
    if answers and not consent:
        raise _invalid(
            "consent_disability",
            _("The disability questions are asked only with the person's consent to them."),
        )
    return answers


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
    sex="",
    consent_given=False,
    consent_disability=False,
    special_consents=(),
    sensitive=None,
    user=None,
    accepts_email=True,
    accepts_sms=False,
):
    """Register a person: a field officer for them (often), or the person themselves.

    Refuses without consent: nothing is stored before the person agreed. Possible
    duplicates are flagged (DuplicateFlag, pending) for an officer to decide, never
    merged; they are also on the returned object as `possible_duplicates`.

    The disability questions (Washington Group, `sensitive` keys wg_*) are health data:
    stored only with the person's own consent to them (`consent_disability`, kept as
    `consent_disability_at`); answers without it are refused.
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
        sex=sex,
    )
    special_consents = set(special_consents or ())
    # The disability questions' consent is the "disability" purpose of the consent
    # records (applicants.consent); either way of giving it gives both.
    consent_disability = bool(consent_disability) or DISABILITY in special_consents
    if consent_disability:
        special_consents.add(DISABILITY)
    disability = clean_disability_answers(sensitive, consent_disability)
    if not consent_given:
        raise _invalid("consent_given", _("The applicant's consent is needed before their data is stored."))
    if accepts_sms and not values["phone"]:
        raise _invalid("accepts_sms", sms_needs_phone())
    if special_consents - set(SPECIAL_PURPOSES):
        raise _invalid("special_consents", _("Unknown consent."))
    sensitive = _with_referral(sensitive)
    sensitive = {k: v for k, v in sensitive.items() if k in SENSITIVE_FIELDS and v}
    _require_special_consents(values["target_groups"], sensitive, special_consents)
    groups = values.pop("target_groups")
    applicant = Applicant(
        user=user,
        centre=centre,
        created_by=by,
        accepts_email=bool(accepts_email),
        accepts_sms=bool(accepts_sms),
        channels_recorded_at=timezone.now(),
        channels_recorded_by=by,
        consent_disability_at=timezone.now() if consent_disability else None,
        **values,
        **Applicant.target_group_flags(groups),
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
    sensitive = {k: v for k, v in sensitive.items() if k not in WG_DOMAINS}
    sensitive.update(disability)
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
            "channels": _channels(applicant),
            "consents": [GENERAL, *sorted(special_consents)],
        },
    )
    applicant.possible_duplicates = duplicates
    return applicant


def sms_needs_phone():  # noqa: N802 - a sentence, translated when asked for
    return _("Give a mobile phone number to receive news by SMS.")


def _channels(applicant):
    return {"email": applicant.accepts_email, "sms": applicant.accepts_sms}


# How a change of channels came: a form (web or API) or the person's reply STOP.
CHANNEL_SOURCES = ("form", "api", "stop_reply")


@transaction.atomic
def set_contact_channels(*, applicant, by, accepts_email, accepts_sms, how="form"):
    """Record the channels the person accepts news by (both off: none), with who
    recorded it and when; audited with the channels before and after. SMS needs a
    phone number. A change to what is already recorded writes nothing."""
    if how not in CHANNEL_SOURCES:
        raise ValueError(how)
    applicant = Applicant.objects.select_for_update().get(pk=applicant.pk)
    if accepts_sms and not applicant.phone:
        raise _invalid("accepts_sms", sms_needs_phone())
    before = _channels(applicant)
    applicant.accepts_email, applicant.accepts_sms = bool(accepts_email), bool(accepts_sms)
    after = _channels(applicant)
    if before == after:
        return applicant
    applicant.channels_recorded_at = timezone.now()
    applicant.channels_recorded_by = by if getattr(by, "pk", None) else None
    applicant.save(
        update_fields=["accepts_email", "accepts_sms", "channels_recorded_at", "channels_recorded_by"]
    )
    trail.record(
        action="contact_channels_changed",
        actor=by,
        applicant=applicant,
        data={"before": before, "after": after, "how": how},
    )
    return applicant


STOP_WORDS = ("STOP", "STOPP", "NDAL", "NDALO")


def is_stop(text):
    """A reply that asks for no more SMS: its first word is STOP (any case; Albanian
    NDALO / NDAL too), as people write it, with or without punctuation."""
    words = "".join(ch if ch.isalnum() else " " for ch in (text or "")).upper().split()
    return bool(words) and words[0] in STOP_WORDS


@transaction.atomic
def opt_out_sms(*, phone):
    """The person at `phone` (E.164) replied STOP: no more SMS to them, from now on.
    Applicants with that number lose the SMS channel (audited, how="stop_reply", no
    actor: the person asked through the provider) and so do staff reminders by SMS.
    Returns how many people were opted out."""
    count = 0
    for applicant in Applicant.objects.filter(phone=phone, accepts_sms=True).order_by("pk"):
        set_contact_channels(
            applicant=applicant,
            by=None,
            accepts_email=applicant.accepts_email,
            accepts_sms=False,
            how="stop_reply",
        )
        count += 1
    for profile in StaffProfile.objects.select_for_update().filter(phone=phone, sms_reminders=True):
        profile.sms_reminders = False
        profile.save(update_fields=["sms_reminders"])
        trail.record(
            action="contact_channels_changed",
            actor=None,
            data={
                "staff_user": profile.user_id,
                "before": {"sms": True},
                "after": {"sms": False},
                "how": "stop_reply",
            },
        )
        count += 1
    return count


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


def _with_referral(sensitive):
    """`sensitive` with the referring institution checked (applicants.referral_institutions):
    `referral` a list entry or "other" with `referral_other`, or the old single text
    `referral_institution`; it leaves as `referral` (an entry or None) and
    `referral_other`."""
    sensitive = dict(sensitive or {})
    referral, other = referral_institutions.clean_referral(
        institutions=ReferralInstitution.objects.filter(active=True),
        referral=sensitive.pop("referral", None),
        other=sensitive.pop("referral_other", ""),
        legacy=sensitive.pop("referral_institution", ""),
    )
    return {**sensitive, "referral": referral, "referral_other": other}


@transaction.atomic
def referral_review_close(*, by, applicant, referral=None, referral_other=""):
    """A programme manager has read the free-text referral kept for review and chosen
    the institution (or "other" with a short name, or none): the text is cleared, the
    audit event says that it was, never what it said."""
    facts = ApplicantSensitive.objects.select_for_update().filter(applicant=applicant).first()
    if facts is None or not sensitivity.may_review_referral(by, applicant):
        raise NotVisible()
    if not facts.referral_review:
        raise Conflict(_("There is no referral text to review."), code="nothing_to_review")
    entry, other = referral_institutions.clean_referral(
        institutions=ReferralInstitution.objects.filter(active=True), referral=referral, other=referral_other
    )
    before = {"referral": facts.referral_id, "referral_other_set": bool(facts.referral_other)}
    facts.referral, facts.referral_other, facts.referral_review = entry, other, ""
    facts.save(update_fields=["referral", "referral_other", "referral_review"])
    trail.record(
        action="referral_reviewed",
        actor=by,
        applicant=applicant,
        data={
            "before": before,
            "after": {"referral": facts.referral_id, "referral_other_set": bool(other)},
            "review_text_cleared": True,
        },
    )
    return facts


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


def can_record_referral(user, applicant):
    """Which outside organisation referred the person: a field officer of their centre."""
    if not user.is_authenticated or not (
        roles.sees_personal_data(user) and applicant.centre_id in centre_ids(user)
    ):
        return NOT_VISIBLE
    if not (roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("applicants.change_applicant")):
        return Decision(False, _("Field officers record who referred a person."))
    if applicant.user_id == user.pk:
        return Decision(False, _("You cannot act on your own record."))
    return ALLOWED


@transaction.atomic
def record_referral(*, applicant, partner, by):
    """Record (or, with `partner` None, clear) the organisation that referred the person;
    it then reads what became of the referral (grants.referrals)."""
    applicant = Applicant.objects.select_for_update().select_related("centre").get(pk=applicant.pk)
    require(can_record_referral(by, applicant))
    if partner is not None and partner.country_id != applicant.centre.country_id:
        raise _invalid("partner", _("Choose a partner of the person's country."))
    previous = applicant.referred_by_id
    new = partner.pk if partner is not None else None
    if previous == new:
        return applicant
    applicant.referred_by_id = new
    applicant.save(update_fields=["referred_by", "updated_at"])
    trail.record(
        action="referral_recorded",
        actor=by,
        applicant=applicant,
        data={"before": {"referred_by": previous}, "after": {"referred_by": new}},
    )
    return applicant
