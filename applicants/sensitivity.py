"""Each applicant field's sensitivity class, and who may see the sensitive ones.

ordinary: staff of the centre (masked in lists and exports where personal);
special_category (return details, ethnicity) and criminal (prison referral): only the
assigned field officer and the centre's programme managers, and the person themselves.
Finance and auditors never receive them: the API omits the keys, the UI the sections.
"""

from . import roles
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
    "referral_institution": CRIMINAL,
    "release_month": CRIMINAL,
}
SENSITIVE_FIELDS = [name for name, cls in FIELD_CLASSES.items() if cls != ORDINARY]


def can_see_sensitive(user, applicant):
    if not user.is_authenticated:
        return False
    if applicant.user_id is not None and applicant.user_id == user.pk:
        return True
    if not user.has_perm("grants.view_sensitive") or applicant.centre_id not in centre_ids(user):
        return False
    if roles.has_role(user, roles.PROGRAMME_MANAGER):
        return True
    if roles.has_role(user, roles.FIELD_OFFICER):
        return (
            applicant.created_by_id == user.pk
            or applicant.applications.filter(assigned_officer=user).exists()
        )
    return False


def sensitive_payload(user, applicant, *, audit=True):
    """The sensitive facts as a dict for those who may see them (the viewing is
    audited), or None: the caller then leaves the key out altogether."""
    if not can_see_sensitive(user, applicant):
        return None
    facts = getattr(applicant, "sensitive", None) if hasattr(applicant, "sensitive") else None
    payload = {name: None for name in SENSITIVE_FIELDS}
    if facts is not None:
        for name in SENSITIVE_FIELDS:
            value = getattr(facts, name)
            payload[name] = value.isoformat() if hasattr(value, "isoformat") else (value or None)
    if audit and applicant.user_id != user.pk:
        from grants import audit as audit_trail

        audit_trail.record(action="sensitive_viewed", actor=user, applicant=applicant)
    return payload


def mask(value):
    """What lists and exports show of a personal value by default."""
    if not value:
        return ""
    text = str(value)
    return text[0] + "•" * max(len(text) - 1, 2)
