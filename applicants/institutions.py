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
from django.utils.translation import ngettext

from audit import trail
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from core.errors import Conflict, ServiceError, checked_text, require

from . import roles
from .consent import GENERAL
from .models import Applicant, Institution
from .normalise import name_key
from .selectors import centre_ids, centre_scope
from .services import can_register, clean_registration, record_consent

INSTITUTION_FIELDS = ("name", "registration_number", "address", "municipality")
# An institution's own facts (a public body's, none about a person): kept whole in its
# audit events.
AUDITED_FIELDS = [*INSTITUTION_FIELDS, "kind"]


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


def institutions_managed_by(user):
    """The institutions `user` keeps in the admin: all for superusers; those of their
    centres for programme managers; none for anyone else."""
    if user.is_authenticated and user.is_superuser:
        return Institution.objects.select_related("centre", "contact")
    if not roles.has_role(user, roles.PROGRAMME_MANAGER):
        return Institution.objects.none()
    return institutions_for(user)


def can_change_institution(user, institution):
    """Superusers; programme managers of its centre. Staff who read it but are not its
    managers are told why; for everyone else it does not exist."""
    if user.is_authenticated and user.is_superuser:
        return ALLOWED
    if roles.has_role(user, roles.PROGRAMME_MANAGER) and institution.centre_id in centre_ids(user):
        return ALLOWED
    if can_view_institution(user, institution).allowed:
        return Decision(False, _("Only the centre's programme managers change an institution."))
    return NOT_VISIBLE


def can_register_institution(user, centre):
    """Field officers register institutions at their centres, as they register people."""
    decision = can_register(user, centre)
    if not decision.allowed and decision.visible:
        return Decision(False, _("Only field officers register institutions."))
    return decision


def _clean_values(values):
    for field, value in values.items():
        if any(ord(ch) < 32 for ch in value):
            raise _invalid(field, _("Write it without control characters."))
    if not values["name"]:
        raise _invalid("name", _("Give the institution's name."))
    return values


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
    values = _clean_values(values)
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


def clean_changes(institution, values):
    """`values` (some of `AUDITED_FIELDS`) checked as the registration checks them, with
    the institution's other facts as they are: {field: value} for every audited field.
    ServiceError names the field refused (the admin's form shows it there)."""
    unknown = sorted(set(values) - set(AUDITED_FIELDS))
    if unknown:
        raise ServiceError(_("These cannot be changed here: %(names)s.") % {"names": ", ".join(unknown)})
    texts = _clean_values(
        {
            field: checked_text(
                values.get(field, getattr(institution, field)), Institution._meta.get_field(field)
            )
            for field in INSTITUTION_FIELDS
        }
    )
    kind = clean_kind(values.get("kind", institution.kind))
    if (
        Institution.objects.filter(centre_id=institution.centre_id, name__iexact=texts["name"])
        .exclude(pk=institution.pk)
        .exists()
    ):
        raise _invalid("name", _("An institution of this name is already registered at the centre."))
    return {**texts, "kind": kind}


@transaction.atomic
def update_institution(*, institution, by, **values):
    """Change an institution's own facts (`INSTITUTION_FIELDS` and its kind), as its
    centre's programme manager or a superuser does in the admin. Its centre and its
    contact person are not changed here: the contact is a person's record, written by
    the registration and the privacy services. The audit event keeps what each changed
    value was."""
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    require(can_change_institution(by, institution))
    cleaned = clean_changes(institution, values)
    before = trail.snapshot(institution, AUDITED_FIELDS)
    for field, value in cleaned.items():
        setattr(institution, field, value)
    change = trail.changes(before, trail.snapshot(institution, AUDITED_FIELDS))
    if change is None:
        return institution
    institution.save(update_fields=sorted(change["after"]))
    trail.record(
        action="institution_changed",
        actor=by,
        applicant=institution.contact,
        data={"institution": institution.pk, **change},
    )
    return institution


def deletion_refused(institution):
    """Why `institution` may not be deleted, or "" when it may: one with applications
    stays, so that its grants keep their grantee (nothing is ever lost)."""
    count = institution.applications.count()
    if count:
        return ngettext(
            "%(name)s has %(count)d application: an institution with applications is never deleted.",
            "%(name)s has %(count)d applications: an institution with applications is never deleted.",
            count,
        ) % {"name": institution.name, "count": count}
    return ""


@transaction.atomic
def delete_institution(*, institution, by):
    """Delete an institution registered by mistake, one with no application. Its contact
    person's record stays with their consent and history (the privacy services erase
    it when asked); the audit event keeps the institution's facts."""
    institution = Institution.objects.select_for_update().get(pk=institution.pk)
    require(can_change_institution(by, institution))
    reason = deletion_refused(institution)
    if reason:
        raise Conflict(reason, code="institution_has_applications")
    before = trail.snapshot(institution, [*AUDITED_FIELDS, "centre", "contact"])
    pk, contact = institution.pk, institution.contact
    institution.delete()
    trail.record(
        action="institution_deleted",
        actor=by,
        applicant=contact,
        data={"institution": pk, "before": before, "after": None},
    )
