"""Each applicant field's sensitivity class, and who may see what.

- ordinary (name, birth date, contact, household): the staff of the applicant's centre
  whose role reads personal records (field officers, programme managers); lists and
  exports show them masked unless the user asks for them and may have them;
- special_category (return details, ethnicity, the disability answers of the
  Washington Group questions: health data) and criminal (prison or probation
  referral): only the assigned field officer, the centre's programme managers and the
  person themselves. Finance and auditors never receive them (the API omits the keys,
  the UI the sections), and no export contains them.

An institution's contact person (Applicant.is_institution_contact) has no sensitive facts
at all: nobody sees any, and no path stores any (applicants.institutions).
"""

from django.db.models import Exists
from django.utils.translation import gettext_lazy as _

from audit import trail

from . import roles
from .facts import disability
from .models import WG_DOMAINS, Applicant, ApplicantSensitive, WashingtonGroupAnswer
from .selectors import centre_ids

ORDINARY = "ordinary"
SPECIAL = "special_category"
CRIMINAL = "criminal"

FIELD_CLASSES = {
    "first_name": ORDINARY,
    "last_name": ORDINARY,
    "date_of_birth": ORDINARY,
    "phone": ORDINARY,
    "national_id": ORDINARY,
    "email": ORDINARY,
    "municipality": ORDINARY,
    "address": ORDINARY,
    "household_size": ORDINARY,
    "dependants": ORDINARY,
    "returned_from": SPECIAL,
    "return_date": SPECIAL,
    "ethnicity": SPECIAL,
    "sex": ORDINARY,
    **dict.fromkeys(WG_DOMAINS, SPECIAL),
    # The referring institution: the list entry (its id), the "other" name, and the two
    # as one text under the old name (ApplicantSensitive.referral_institution).
    "referral": CRIMINAL,
    "referral_other": CRIMINAL,
    "referral_institution": CRIMINAL,
    "release_month": CRIMINAL,
}
SENSITIVE_FIELDS = [name for name, cls in FIELD_CLASSES.items() if cls != ORDINARY]
# Sensitive facts that are not columns: read from others (ApplicantSensitive's property).
DERIVED_FIELDS = ("referral_institution",)
# Columns kept for a programme manager's review only (`may_review_referral`), outside
# every payload and page section.
REVIEW_FIELDS = ("referral_review",)
# Ordinary fields that identify a person: masked in lists and exports by default.
MASKED_FIELDS = ["first_name", "last_name", "phone", "national_id", "email", "address"]


def sensitive_access(user, applicant):
    """(allowed, reason) for the special-category and criminal facts of `applicant`.
    The reason is a sentence the UI can show next to the missing section."""
    if not user.is_authenticated:
        return False, _("Not allowed.")
    if applicant.is_institution_contact:
        # Speaks for an institution: no sensitive fact is asked, stored or shown.
        return False, _("An institution's contact person: no sensitive facts are kept.")
    if applicant.user_id is not None and applicant.user_id == user.pk:
        return True, ""
    if not user.has_perm("grants.view_sensitive"):
        return False, _("Your role does not see sensitive facts.")
    if applicant.centre_id not in centre_ids(user):
        return False, _("Not your centre.")
    if roles.has_role(user, roles.PROGRAMME_MANAGER):
        return True, ""
    if roles.has_role(user, roles.FIELD_OFFICER) and (
        applicant.created_by_id == user.pk or is_assigned_officer(user, applicant)
    ):
        return True, ""
    return False, _("Only the assigned field officer and the centre's managers see this.")


def is_assigned_officer(user, applicant):
    """The user is the assigned officer of one of the person's applications. A page asks
    this for each check (the section, the documents, each kind of upload): answered once,
    and kept on the user object for the request like its permissions
    (selectors.forget_permissions drops it)."""
    known = _assignments(user)
    if applicant.pk not in known:
        known[applicant.pk] = applicant.applications.filter(assigned_officer=user).exists()
    return known[applicant.pk]


def remember_assigned_officer(user, applicant, assigned):
    """Tell the request what `is_assigned_officer` would ask, read by a caller's own
    query: `assigned` must be whether one of the person's applications is assigned to
    the user (`assigned_officer_exists`)."""
    _assignments(user)[applicant.pk] = bool(assigned)


def assigned_officer_exists(user, applicant_ref):
    """The question of `is_assigned_officer` as an expression, for a query that reads the
    person (`applicant_ref`: their id, e.g. OuterRef("applicant_id")), through the
    person's applications (a reverse relation: nothing to import from grants)."""
    return Exists(Applicant.objects.filter(pk=applicant_ref, applications__assigned_officer=user.pk))


def _assignments(user):
    known = getattr(user, "_assigned_applicants_cache", None)
    if known is None:
        known = user._assigned_applicants_cache = {}
    return known


def can_see_sensitive(user, applicant):
    return sensitive_access(user, applicant)[0]


def sensitive_payload(user, applicant, *, audit=True):
    """The sensitive facts as a dict for those who may see them (the viewing is
    audited), or None: the caller then leaves the key out altogether."""
    if not can_see_sensitive(user, applicant):
        return None
    facts = getattr(applicant, "sensitive", None) if hasattr(applicant, "sensitive") else None
    payload = sensitive_values(facts)
    # Derived from the answers by the Washington Group's cut-off, with their consent.
    payload["disability"] = disability({domain: payload[domain] for domain in WG_DOMAINS})
    consent = applicant.consent_disability_at
    payload["consent_disability_at"] = consent.isoformat() if consent else None
    if audit and applicant.user_id != user.pk:
        trail.record(action="sensitive_viewed", actor=user, applicant=applicant)
    return payload


def sensitive_values(facts):
    """{field: value} of an ApplicantSensitive row (or None) for SENSITIVE_FIELDS, as
    JSON takes them: dates as ISO text, the referring institution as its id."""
    payload = dict.fromkeys(SENSITIVE_FIELDS)
    if facts is not None:
        for name in SENSITIVE_FIELDS:
            value = facts.referral_id if name == "referral" else getattr(facts, name)
            payload[name] = value.isoformat() if hasattr(value, "isoformat") else (value or None)
    return payload


def may_review_referral(user, applicant):
    """The free-text referral kept for review (ApplicantSensitive.referral_review) is
    read only by the programme managers who see the person's sensitive facts."""
    return roles.has_role(user, roles.PROGRAMME_MANAGER) and sensitive_access(user, applicant)[0]


def mask(value):
    """What lists and exports show of a personal value by default."""
    if not value:
        return ""
    text = str(value)
    return text[0] + "•" * max(len(text) - 1, 2)


def masked(applicant, field):
    """A field of `applicant` as lists show it: identifying fields masked, the birth date
    as its year, everything else as it is. Sensitive fields are never shown in lists."""
    if FIELD_CLASSES.get(field, ORDINARY) != ORDINARY:
        raise ValueError(f"{field} is never shown in a list")
    value = getattr(applicant, field)
    if field in MASKED_FIELDS:
        return mask(value)
    if field == "date_of_birth":
        return str(value.year) if value else ""
    return value


def sensitive_section(user, applicant):
    """What a page shows of the special-category and criminal facts: [(label, value)]
    for someone who may see them (the viewing is audited, like the API's), else None and
    the page leaves the section out."""
    payload = sensitive_payload(user, applicant)
    if payload is None:
        return None
    # The institution is shown once, as its name or the "other" text.
    shown = [name for name in SENSITIVE_FIELDS if name not in ("referral", "referral_other")]
    labels = {"referral_institution": ApplicantSensitive._meta.get_field("referral").verbose_name}
    return [
        (
            labels.get(name) or ApplicantSensitive._meta.get_field(name).verbose_name,
            WashingtonGroupAnswer(payload[name]).label if name in WG_DOMAINS else payload[name],
        )
        for name in shown
        if payload[name]
    ]
