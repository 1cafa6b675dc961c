"""The consent texts, in plain words, and who has given which.

One general consent (needed to register) and a separate, optional consent for each
special category of facts (docs/design.md, "Consent"): without it, those facts are
neither asked nor stored. Each record keeps the wording the person read and its
version; when the wording changes, CONSENT_VERSION changes with it and people are asked
again at their next sign-in (privacy.consents), the older record kept beside the new.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from .models import ConsentRecord, TargetGroup

# Change it with any change of the wording below: everyone is asked again.
CONSENT_VERSION = "2026-12"

GENERAL = "general"
PRISON = "prison"
RETURN = "return"
ETHNICITY = "ethnicity"
DISABILITY = "disability"

# Optional consents, each covering one special category of facts. More purposes (a
# channel for messages, say) are added here with their own wording.
SPECIAL_PURPOSES = {
    PRISON: gettext_lazy("Release from prison"),
    RETURN: gettext_lazy("Return from abroad"),
    ETHNICITY: gettext_lazy("Ethnicity"),
    DISABILITY: gettext_lazy("Disability"),
}
# The separate consents asked on the person's own consent page (disability joins when
# its questions are asked).
ASKED_SPECIAL = (PRISON, RETURN, ETHNICITY)
PURPOSES = {GENERAL: gettext_lazy("Use of my data for the grant"), **SPECIAL_PURPOSES}

# Which sensitive facts each special consent covers (applicants.models.ApplicantSensitive
# fields and the target-group flag on Applicant).
FACTS = {
    PRISON: {
        "flag": "is_former_inmate",
        "fields": ("referral", "referral_other", "referral_review", "release_month"),
    },
    RETURN: {"flag": "is_returnee", "fields": ("returned_from", "return_date")},
    ETHNICITY: {"flag": None, "fields": ("ethnicity",)},
    DISABILITY: {"flag": None, "fields": ()},
}
TARGET_GROUP_PURPOSE = {TargetGroup.FORMER_INMATE.value: PRISON, TargetGroup.RETURNEE.value: RETURN}

# The authority each country's people may complain to (by the centre's country code).
SUPERVISORY_AUTHORITIES = {
    "RS": gettext_lazy(
        "the Commissioner for Information of Public Importance and Personal Data Protection "
        "(Belgrade, www.poverenik.rs)"
    ),
    "XK": gettext_lazy(
        "the Information and Privacy Agency (Prishtina, aip.rks-gov.net), under Law No. 06/L-082 "
        "on the Protection of Personal Data"
    ),
}


def controller():
    """(name, contact) of the organisation holding the data (settings.DATA_CONTROLLER_*)."""
    name = settings.DATA_CONTROLLER_NAME or _("The organisation running this grant programme")
    return name, settings.DATA_CONTROLLER_CONTACT


def _retention():
    days = settings.RETENTION_DAYS
    if days % 365 == 0:
        years = days // 365
        return ngettext("%(count)s year", "%(count)s years", years) % {"count": years}
    return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}


def _authority(country_code):
    """The authority of the centre's country; before a centre is chosen, both."""
    authority = SUPERVISORY_AUTHORITIES.get(country_code)
    if authority is not None:
        return str(authority)
    if country_code is None:
        return _("in Serbia, %(serbia)s; in Kosovo, %(kosovo)s") % {
            "serbia": SUPERVISORY_AUTHORITIES["RS"],
            "kosovo": SUPERVISORY_AUTHORITIES["XK"],
        }
    return _("the data protection authority of your country")


def general_wording(country_code=None):
    name, contact = controller()
    return [
        _("%(controller)s (%(contact)s) holds your data and is responsible for it.")
        % {"controller": name, "contact": contact},
        _(
            "We store your name, date of birth, contact details, household and business plan "
            "to decide on your grant, buy your equipment and visit your business afterwards."
        ),
        _(
            "Your field officer and the centre's programme managers see your data; finance staff "
            "and auditors see only what payments and checks need. Donors see numbers only, "
            "never your name."
        ),
        _("We keep your data for %(period)s after your grant ends, then erase it.")
        % {"period": _retention()},
        _(
            "You can ask your field officer at any time for a copy of your data, for its "
            "correction or its erasure, and you can withdraw your consent; what was done "
            "before stays lawful."
        ),
        _("If you think we misuse your data, you can complain to %(authority)s.")
        % {"authority": _authority(country_code)},
    ]


def special_wording(purpose):
    return {
        PRISON: _(
            "Optional: that you were released from prison, the prison or probation service that "
            "referred you and the month of release. Only your field officer and the centre's "
            "programme managers see it; finance staff, auditors and donors never do."
        ),
        RETURN: _(
            "Optional: that you returned from abroad, the country and the date. Only your field "
            "officer and the centre's programme managers see it."
        ),
        ETHNICITY: _("Optional: your ethnicity, if you want to say it. It is only counted in totals."),
        DISABILITY: _(
            "Optional: whether you live with a disability, so that the equipment and the visits "
            "suit you. Only your field officer and the centre's programme managers see it."
        ),
    }[purpose]


def consent_wording(purpose=GENERAL, country_code=None):
    """The text a record keeps: what the person read, in the language they read it in."""
    if purpose == GENERAL:
        return "\n".join(general_wording(country_code))
    return special_wording(purpose)


def needed_purposes(*, target_groups=(), sensitive=None):
    """The special consents that the given facts need."""
    needed = {TARGET_GROUP_PURPOSE[g] for g in target_groups or () if g in TARGET_GROUP_PURPOSE}
    for purpose, facts in FACTS.items():
        if any((sensitive or {}).get(field) for field in facts["fields"]):
            needed.add(purpose)
    return needed


def current_consents(applicant):
    """{purpose: the newest record not withdrawn} (one query)."""
    found = {}
    for record in ConsentRecord.objects.filter(applicant=applicant, withdrawn_at__isnull=True).order_by(
        "-given_at", "-pk"
    ):
        found.setdefault(record.purpose, record)
    return found


def has_consent(applicant, purpose):
    """Whether `applicant` gave the consent for `purpose` and has not withdrawn it."""
    return ConsentRecord.objects.filter(
        applicant=applicant, purpose=purpose, withdrawn_at__isnull=True
    ).exists()


def needs_renewal(applicant):
    """A general consent given under an older wording, not withdrawn: ask again."""
    record = current_consents(applicant).get(GENERAL)
    return record is not None and record.version != CONSENT_VERSION
