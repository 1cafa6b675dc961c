"""Who may do what to people and places: `can_<verb>(...) -> Decision` (core.decisions)."""

from django.utils.translation import gettext_lazy as _

from core.decisions import ALLOWED, NOT_VISIBLE, Decision

from . import roles
from .selectors import centre_ids


def can_assign_staff(by, *, user, centre, remove=False):
    """Make `user` work for `centre`, or stop (`remove`): superusers anywhere, programme
    managers at their own centres (docs/design.md: managers reassign work). `by=None` is the
    operator at the command line. Only people with a staff role can start at a centre."""
    if by is not None:
        if not by.is_authenticated:
            return NOT_VISIBLE
        if not by.is_superuser:
            if centre.pk not in centre_ids(by):
                return NOT_VISIBLE
            if not (
                roles.has_role(by, roles.PROGRAMME_MANAGER)
                and by.has_perm("applicants.add_staffassignment")
                and by.has_perm("applicants.delete_staffassignment")
            ):
                return Decision(False, _("Only programme managers assign staff to their centres."))
    if not remove and not roles.is_staff_member(user):
        return Decision(
            False,
            _("%(user)s has no staff role; give them a role (group) first.") % {"user": user.get_username()},
        )
    return ALLOWED


def can_export_personal_data(user):
    """A bulk export with names and contact details unmasked: its own permission."""
    if not roles.sees_personal_data(user):
        return Decision(False, _("Your role does not see applicants' personal data."))
    if not user.has_perm("applicants.export_personal_data"):
        return Decision(False, _("Exporting personal data needs its own permission."))
    return ALLOWED


def can_export_applicants(user):
    """A masked export (the default): whoever may list the applicants of their centres."""
    if not roles.sees_personal_data(user) or not user.has_perm("applicants.view_applicant"):
        return Decision(False, _("Your role does not see applicants' personal data."))
    return ALLOWED


def can_change_channels(user, applicant):
    """The channels a person accepts news by: the person themselves, or a field officer
    of their centre (recorded as such). `applicant` must already be visible to `user`."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if applicant.user_id is not None and applicant.user_id == user.pk:
        return ALLOWED
    if roles.has_role(user, roles.FIELD_OFFICER) and applicant.centre_id in centre_ids(user):
        return ALLOWED
    return Decision(False, _("Only the person or a field officer of their centre changes how they get news."))
