"""Writes of a cooperative's application: its members (each a registered person, with a
role and membership dates) and its registration. Only whoever may edit the draft
changes them (`can_edit_application`): the applicant on their own draft, a field officer
of the centre. Members hold the view permission on the application (never change: the
contact person edits and submits it)."""

import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm, remove_perm

from applicants import roles
from applicants.models import Applicant
from applicants.selectors import centre_ids
from audit import trail
from core.errors import ServiceError, checked_text, require

from .. import permissions
from ..models import CooperativeMember, GrantApplication
from .applications import locked

UNKNOWN_PERSON = gettext_lazy(
    "No registered person with this registration number (and date of birth) at a centre you work with."
)


def _refused(message, code, key="members"):
    return ServiceError(message, code=code, details={key: [message]})


def find_person(*, by, application, applicant_id, date_of_birth=None):
    """The registered person `by` may make a member: staff, one of their centres'
    people; the applicant, a person of the application's centre whose registration number
    and date of birth they know (so an applicant learns nothing about anyone else)."""
    people = Applicant.objects.filter(pk=applicant_id, pseudonymised_at__isnull=True)
    if roles.is_staff_member(by):
        people = people.filter(centre_id__in=centre_ids(by))
    elif date_of_birth is not None:
        people = people.filter(centre_id=application.centre_id, date_of_birth=date_of_birth)
    else:
        people = people.none()
    person = people.first()
    if person is None:
        raise _refused(str(UNKNOWN_PERSON), "unknown_person")
    if person.pk == application.applicant_id:
        raise _refused(_("The contact person is already part of the application."), "contact_person")
    return person


def _check_dates(joined_on, left_on):
    for value in (joined_on, left_on):
        if value is not None and not isinstance(value, datetime.date):
            raise _refused(_("Enter membership dates as dates, such as 2025-03-02."), "invalid")
    if joined_on and left_on and left_on < joined_on:
        raise _refused(_("A membership cannot end before it begins."), "invalid")


def _role(role):
    if role not in CooperativeMember.Role.values:
        raise _refused(_("The role is founder, member or manager."), "invalid")
    return role


def _grant_view(application, person):
    if person.user_id and person.user_id != application.applicant.user_id:
        assign_perm("grants.view_grantapplication", person.user, application)


def _revoke_view(application, person):
    if person.user_id and person.user_id != application.applicant.user_id:
        for codename in ("view_grantapplication", "change_grantapplication"):
            remove_perm(f"grants.{codename}", person.user, application)


def _membership_facts(application):
    return [
        [
            m.applicant_id,
            m.role,
            m.joined_on.isoformat() if m.joined_on else None,
            m.left_on.isoformat() if m.left_on else None,
        ]
        for m in application.memberships.order_by("pk")
    ]


def _record(action, by, application, before, comment=""):
    trail.record(
        action=action,
        actor=by,
        application=application,
        on_behalf_of=application.applicant if permissions.acts_on_behalf(by, application) else None,
        from_state=application.state,
        to_state=application.state,
        data={"before": {"members": before}, "after": {"members": _membership_facts(application)}},
    )


def _editable(application, by):
    application = locked(application)
    require(permissions.can_edit_application(by, application))
    if not application.is_cooperative:
        raise _refused(_("Only a cooperative's application has members."), "not_cooperative")
    return application


@transaction.atomic
def add_member(
    *,
    application,
    by,
    applicant_id,
    role=CooperativeMember.Role.MEMBER,
    joined_on=None,
    left_on=None,
    date_of_birth=None,
):
    """Make a registered person a member of the cooperative (their role and dates)."""
    application = _editable(application, by)
    person = find_person(
        by=by, application=application, applicant_id=applicant_id, date_of_birth=date_of_birth
    )
    _check_dates(joined_on, left_on)
    before = _membership_facts(application)
    membership, created = CooperativeMember.objects.get_or_create(
        application=application,
        applicant=person,
        defaults={"role": _role(role), "joined_on": joined_on, "left_on": left_on},
    )
    if not created:
        raise _refused(_("%(name)s is already a member.") % {"name": person.full_name}, "already_member")
    _grant_view(application, person)
    _record("member_added", by, application, before)
    return membership


@transaction.atomic
def remove_member(*, application, by, applicant_id):
    """Take a person off the cooperative's members (and their view of the application)."""
    application = _editable(application, by)
    membership = application.memberships.select_related("applicant").filter(applicant_id=applicant_id).first()
    if membership is None:
        raise _refused(_("This person is not a member."), "not_member")
    before = _membership_facts(application)
    membership.delete()
    _revoke_view(application, membership.applicant)
    _record("member_removed", by, application, before)


@transaction.atomic
def set_members(*, application, by, members):
    """Replace the members with `members`: [{"applicant", "role", "joined_on", "left_on",
    "date_of_birth"}] (the API's list). One audit row for the whole change."""
    application = _editable(application, by)
    before = _membership_facts(application)
    wanted = {}
    for row in members:
        person = find_person(
            by=by,
            application=application,
            applicant_id=row["applicant"],
            date_of_birth=row.get("date_of_birth"),
        )
        if person.pk in wanted:
            raise _refused(_("%(name)s is already a member.") % {"name": person.full_name}, "already_member")
        _check_dates(row.get("joined_on"), row.get("left_on"))
        wanted[person.pk] = (person, _role(row.get("role") or CooperativeMember.Role.MEMBER), row)
    current = {m.applicant_id: m for m in application.memberships.select_related("applicant")}
    for applicant_id, membership in current.items():
        if applicant_id not in wanted:
            membership.delete()
            _revoke_view(application, membership.applicant)
    for applicant_id, (person, role, row) in wanted.items():
        values = {"role": role, "joined_on": row.get("joined_on"), "left_on": row.get("left_on")}
        if applicant_id in current:
            CooperativeMember.objects.filter(pk=current[applicant_id].pk).update(**values)
        else:
            CooperativeMember.objects.create(application=application, applicant=person, **values)
            _grant_view(application, person)
    if _membership_facts(application) != before:
        _record("members_changed", by, application, before)
    return application


def _cooperative_facts(application):
    registered_on = application.cooperative_registered_on
    return {
        "is_cooperative": application.is_cooperative,
        "cooperative_registration_number": application.cooperative_registration_number,
        "cooperative_registered_on": registered_on.isoformat() if registered_on else None,
    }


@transaction.atomic
def set_cooperative(*, application, by, is_cooperative, number="", registered_on=None):
    """Whether the application is a cooperative's, and its registration with the
    business registry (number and date)."""
    application = locked(application)
    require(permissions.can_edit_application(by, application))
    if not is_cooperative and application.memberships.exists():
        raise _refused(_("Remove the members first."), "has_members", "is_cooperative")
    if is_cooperative and application.institution_id is not None:
        raise _refused(
            _("An institution's grant is not a cooperative's."),
            "institution_not_cooperative",
            "is_cooperative",
        )
    if registered_on is not None and not isinstance(registered_on, datetime.date):
        raise _refused(
            _("Enter the registration date as a date, such as 2025-03-02."),
            "invalid",
            "cooperative_registered_on",
        )
    before = _cooperative_facts(application)
    application.is_cooperative = bool(is_cooperative)
    application.cooperative_registration_number = checked_text(
        number if is_cooperative else "", GrantApplication._meta.get_field("cooperative_registration_number")
    )
    application.cooperative_registered_on = registered_on if is_cooperative else None
    application.save(
        update_fields=[
            "is_cooperative",
            "cooperative_registration_number",
            "cooperative_registered_on",
            "updated_at",
        ]
    )
    after = _cooperative_facts(application)
    if after != before:
        trail.record(
            action="cooperative_changed",
            actor=by,
            application=application,
            on_behalf_of=application.applicant if permissions.acts_on_behalf(by, application) else None,
            from_state=application.state,
            to_state=application.state,
            data=trail.changes(before, after),
        )
    return application
