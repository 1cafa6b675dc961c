"""Institutions as grantees (docs/design.md, "Institutional grantees"): registering a
prison workshop, a vocational school or a municipality's cooperative with its contact
person, and who may read them.

The contact person is an Applicant record flagged `is_institution_contact`: the grant's
paths that read `application.applicant` (consent, notifications, the contract, the
handover protocol) work as for a person. It is in no target group and never has
sensitive facts (`applicants.sensitivity.sensitive_access` refuses them), and no
duplicate check runs on it: it speaks for the institution, it is not a beneficiary."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import trail
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from core.errors import ServiceError, checked_text, require

from . import roles
from .consent import GENERAL
from .models import Applicant, Institution
from .normalise import name_key
from .selectors import centre_ids, centre_scope
from .services import can_register, clean_registration, record_consent

INSTITUTION_FIELDS = ("name", "registration_number", "address", "municipality")


def _invalid(field, message):
    return ServiceError(message, details={field: [message]})


def _reads_institutions(user):
    return (
        user.is_authenticated
        and roles.sees_personal_data(user)
        and user.has_perm("applicants.view_applicant")
    )


def institutions_for(user):
    """The institutions `user` may open: those of their centres, for the staff whose role
    reads personal records (the contact person is one); none for anyone else."""
    if not _reads_institutions(user):
        return Institution.objects.none()
    return Institution.objects.filter(centre_id__in=centre_scope(user)).select_related("centre", "contact")


def can_view_institution(user, institution):
    """Staff who read its centre's records; for everyone else it does not exist."""
    if not _reads_institutions(user) or institution.centre_id not in centre_ids(user):
        return NOT_VISIBLE
    return ALLOWED


def can_register_institution(user, centre):
    """Field officers register institutions at their centres, as they register people."""
    decision = can_register(user, centre)
    if not decision.allowed and decision.visible:
        return Decision(False, _("Only field officers register institutions."))
    return decision


def clean_kind(kind):
    if kind not in Institution.Kind.values:
        raise _invalid("kind", _("Kind: one of %(values)s.") % {"values": ", ".join(Institution.Kind.values)})
    return kind


@transaction.atomic
def register_institution(
    *,
    by,
    centre,
    name,
    kind,
    contact_first_name,
    contact_last_name,
    contact_date_of_birth,
    consent_given,
    registration_number="",
    address="",
    municipality="",
    contact_phone="",
    contact_email="",
    contact_language="sr-latn",
):
    """Register an institution of `centre` with its contact person. The contact person's
    consent to the use of their contact data is needed, as a person's is; nothing about
    the contact person beyond name, date of birth (they sign the contract and the
    handover protocol for the institution) and how to reach them is asked or kept."""
    require(can_register_institution(by, centre))
    values = {
        field: checked_text(value, Institution._meta.get_field(field))
        for field, value in (
            ("name", name),
            ("registration_number", registration_number),
            ("address", address),
            ("municipality", municipality),
        )
    }
    for field, value in values.items():
        if any(ord(ch) < 32 for ch in value):
            raise _invalid(field, _("Write it without control characters."))
    if not values["name"]:
        raise _invalid("name", _("Give the institution's name."))
    kind = clean_kind(kind)
    try:
        person = clean_registration(
            first_name=contact_first_name,
            last_name=contact_last_name,
            date_of_birth=contact_date_of_birth,
            centre=centre,
            target_groups=[],
            phone=contact_phone,
            email=contact_email,
            municipality=values["municipality"],
            language=contact_language,
            institution_contact=True,
        )
    except ServiceError as error:
        # The contact's fields carry the contact_ prefix on the form and in the API.
        raise ServiceError(
            error.message,
            code=error.code,
            details={f"contact_{key}": messages for key, messages in error.details.items()},
        ) from None
    if not consent_given:
        raise _invalid(
            "consent_given", _("The contact person's consent is needed before their data is stored.")
        )
    if Institution.objects.filter(centre=centre, name__iexact=values["name"]).exists():
        raise _invalid("name", _("An institution of this name is already registered at the centre."))
    person.pop("target_groups")
    contact = Applicant(
        centre=centre,
        created_by=by,
        is_institution_contact=True,
        channels_recorded_at=timezone.now(),
        channels_recorded_by=by,
        **person,
    )
    contact.name_key = name_key(contact.first_name, contact.last_name)
    contact.save()
    try:
        with transaction.atomic():
            institution = Institution.objects.create(
                centre=centre, kind=kind, contact=contact, created_by=by, **values
            )
    except IntegrityError:
        raise _invalid(
            "name", _("An institution of this name is already registered at the centre.")
        ) from None
    record_consent(applicant=contact, by=by, purpose=GENERAL, on_behalf=True)
    trail.record(
        action="register_institution",
        actor=by,
        applicant=contact,
        on_behalf_of=contact,
        data={"institution": institution.pk, "kind": kind, "centre": centre.pk, "consents": [GENERAL]},
    )
    return institution
