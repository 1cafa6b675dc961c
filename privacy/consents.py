"""A person's consents over time: asked again when the wording changes, each special
category given or withdrawn on its own, and a withdrawal erases the facts it covered.

The general consent's wording has a version (applicants.consent.CONSENT_VERSION). At
sign-in, a person whose general consent was given under an older wording is marked in
the session; ConsentRenewalMiddleware then sends every page to the consent page until
they answer. Both records stay: the older one with what was read then.
"""

from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from applicants import consent, roles
from applicants.models import Applicant, ApplicantSensitive, ConsentRecord
from applicants.services import record_consent
from audit import trail
from core.errors import ServiceError

SESSION_KEY = "consent_renewal"


@transaction.atomic
def renew_consents(*, applicant, by, special=()):
    """The person agrees to the current wording: a new general record, and the special
    consents in `special` (each new or under the current wording). A special consent
    held but not in `special` is withdrawn, and its facts erased."""
    special = set(special)
    unknown = special - set(consent.SPECIAL_PURPOSES)
    if unknown:
        raise ServiceError(_("Unknown consent."), code="unknown_consent")
    if special and applicant.is_institution_contact:
        # No sensitive fact is kept of an institution's contact person, so none is asked.
        raise ServiceError(
            _("An institution's contact person gives no special-category consent."), code="not_applicable"
        )
    held = consent.current_consents(applicant)
    for purpose in set(held) & set(consent.SPECIAL_PURPOSES) - special:
        withdraw_consent(applicant=applicant, purpose=purpose, by=by)
    on_behalf = applicant.user_id != getattr(by, "pk", None)
    given = []
    for purpose in [consent.GENERAL, *sorted(special)]:
        record = held.get(purpose)
        if record is None or record.version != consent.CONSENT_VERSION:
            record_consent(applicant=applicant, by=by, purpose=purpose, on_behalf=on_behalf)
            given.append(purpose)
    trail.record(
        action="consent_given",
        actor=by,
        applicant=applicant,
        on_behalf_of=applicant if on_behalf else None,
        data={"purposes": given, "version": consent.CONSENT_VERSION},
    )
    return given


@transaction.atomic
def withdraw_consent(*, applicant, purpose, by):
    """Withdraw one special-category consent and erase the facts it covered: the fields
    of ApplicantSensitive and the target group it stands for. A target group that is the
    person's only one cannot go on its own (the record needs one): then the whole record
    is erased instead (privacy.subjects.pseudonymise, by a programme manager)."""
    if purpose not in consent.SPECIAL_PURPOSES:
        raise ServiceError(
            _("The consent to register is withdrawn by asking for the erasure of your data."),
            code="general_consent",
        )
    applicant = Applicant.objects.select_for_update().get(pk=applicant.pk)
    facts = consent.FACTS[purpose]
    flag = facts["flag"]
    if flag and getattr(applicant, flag):
        others = [g for g in applicant.target_groups if consent.TARGET_GROUP_PURPOSE.get(g) != purpose]
        if not others:
            raise ServiceError(
                _(
                    "This is the only reason you are in the programme: to withdraw it, ask your "
                    "field officer to erase all your data."
                ),
                code="only_target_group",
            )
        setattr(applicant, flag, False)
        applicant.save(update_fields=[flag, "updated_at"])
    erased = list(facts["fields"])
    if erased:
        ApplicantSensitive.objects.filter(applicant=applicant).update(
            **{f: ApplicantSensitive._meta.get_field(f).get_default() for f in erased}
        )
    withdrawn = ConsentRecord.objects.filter(
        applicant=applicant, purpose=purpose, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    trail.record(
        action="consent_withdrawn",
        actor=by,
        applicant=applicant,
        on_behalf_of=applicant if applicant.user_id != getattr(by, "pk", None) else None,
        data={
            "purpose": purpose,
            "records": withdrawn,
            "erased": sorted([*erased, *([flag] if flag else [])]),
        },
    )
    return withdrawn


def mark_renewal_at_sign_in(sender, request, user, **kwargs):
    """user_logged_in: remember in the session whether this person must answer again."""
    if request is None or not hasattr(request, "session"):
        return
    applicant = Applicant.objects.filter(user=user).first() if roles.has_role(user, roles.APPLICANT) else None
    if applicant is not None and consent.needs_renewal(applicant):
        request.session[SESSION_KEY] = True
    else:
        request.session.pop(SESSION_KEY, None)


class ConsentRenewalMiddleware:
    """Every page of a person asked to consent again leads to the consent page (signing
    out and changing the language excepted)."""

    ALLOWED = ("consent-renew", "logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and request.user.is_authenticated:
            allowed = {reverse(name) for name in self.ALLOWED}
            if request.path not in allowed and not request.path.startswith(("/static/", "/api/")):
                return redirect("consent-renew")
        return self.get_response(request)
