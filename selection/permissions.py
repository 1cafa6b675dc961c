"""Who may do what in a call's selection: `can_<verb>(user, obj) -> Decision`.

A committee member (staff, or an external `committee_member`) sees only the applications
of their committees' calls, and none on which they declared a conflict; they see the
other members' scores of an application only once their own are in. Programme managers
and field officers of the programme's country see the call's ranked list; the approver
the programme chose (Programme.list_approver) approves it. docs/permissions.md,
"Selection committees".
"""

from django.utils.translation import gettext_lazy as _

from applicants import roles, sensitivity
from applicants.models import IntegrationCentre
from applicants.selectors import centre_ids
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from grants import permissions as grant_permissions
from grants.models import ListApprover
from grants.workflow import State

from .models import Committee, CommitteeMember, Declaration, Scoring

# The states in which a committee scores an application.
SCORED_STATES = (State.SUBMITTED, State.BUSINESS_TRAINING)


def seat(user, call_id):
    """The user's seat on the call's committee, or None (read once per request)."""
    if not user.is_authenticated:
        return None
    seats = getattr(user, "_committee_seats", None)
    if seats is None:
        seats = dict(CommitteeMember.objects.filter(user=user).values_list("committee__call_id", "pk"))
        user._committee_seats = seats
    member_id = seats.get(call_id)
    return None if member_id is None else CommitteeMember(pk=member_id, user=user)


def forget_seats(user):
    """After a committee changes: the user's seats are read again."""
    user.__dict__.pop("_committee_seats", None)


def works_in_call(user, call):
    """A programme manager or field officer at one of the call's centres."""
    if not (roles.has_role(user, roles.PROGRAMME_MANAGER) or roles.has_role(user, roles.FIELD_OFFICER)):
        return False
    centres = IntegrationCentre.objects.filter(pk__in=centre_ids(user), country_id=call.programme.country_id)
    named = list(call.centres.values_list("pk", flat=True))
    if named:
        centres = centres.filter(pk__in=named)
    return centres.exists()


def can_view_call(user, call):
    """The call's committee page and ranked list."""
    if seat(user, call.pk) is not None or works_in_call(user, call):
        return ALLOWED
    return NOT_VISIBLE


def can_manage_committee(user, call):
    """Programme managers of the call's centres name its members and chair."""
    seen = can_view_call(user, call)
    if not seen:
        return seen
    if not works_in_call(user, call) or not (
        roles.has_role(user, roles.PROGRAMME_MANAGER) and user.has_perm("grants.change_programme")
    ):
        return Decision(False, _("Only programme managers name a committee."))
    return ALLOWED


def declaration_of(member, application):
    return Declaration.objects.filter(member_id=member.pk, application=application).first()


def can_view_as_member(user, application):
    """A member sees an application of their call unless they declared a conflict."""
    member = seat(user, application.call_id)
    if member is None or application.state not in SCORED_STATES:
        return NOT_VISIBLE
    if grant_permissions.is_party(user, application):
        return NOT_VISIBLE
    if Declaration.objects.filter(member_id=member.pk, application=application, conflict=True).exists():
        return NOT_VISIBLE
    return ALLOWED


def can_declare(user, application):
    seen = can_view_as_member(user, application)
    if not seen:
        return seen
    if declaration_of(seat(user, application.call_id), application) is not None:
        return Decision(False, _("You have already declared on this application."))
    return ALLOWED


def can_score(user, application):
    seen = can_view_as_member(user, application)
    if not seen:
        return seen
    if not user.has_perm("selection.score_application"):
        return Decision(False, _("Your role cannot score applications."))
    member = seat(user, application.call_id)
    if declaration_of(member, application) is None:
        return Decision(False, _("Declare first whether you have a conflict of interest."))
    if Scoring.objects.filter(member_id=member.pk, application=application).exists():
        return Decision(False, _("You have scored this application; scores are not changed."))
    return ALLOWED


def can_see_scores(user, application):
    """The members' scores of an application: a member once their own are in (never
    one with a conflict); staff of the call's centres who do not sit on its committee."""
    member = seat(user, application.call_id)
    if member is None:
        return ALLOWED if works_in_call(user, application.call) else NOT_VISIBLE
    if not can_view_as_member(user, application):
        return NOT_VISIBLE
    if not Scoring.objects.filter(member_id=member.pk, application=application).exists():
        return Decision(False, _("You see the other members' scores once yours are in."))
    return ALLOWED


def sees_sensitive(user, application):
    """A member without sensitive access reads sensitive facts only where the programme
    allows it; staff keep their own rule. An institution's grant has none to read."""
    if application.applicant.is_institution_contact:
        return False
    if sensitivity.can_see_sensitive(user, application.applicant):
        return True
    return seat(user, application.call_id) is not None and application.programme.committee_sees_sensitive


def can_approve_list(user, call):
    """The approver the programme chose: a programme manager, the committee's chair or a
    field officer (who did not assess an application: grants.permissions, per grant)."""
    choice = call.programme.list_approver
    if choice == ListApprover.CHAIR and Committee.objects.filter(call=call, chair=user).exists():
        return ALLOWED
    if choice != ListApprover.CHAIR and works_in_call(user, call):
        if choice == ListApprover.OFFICER and roles.has_role(user, roles.FIELD_OFFICER):
            return ALLOWED
        if choice == ListApprover.MANAGER and user.has_perm("grants.approve_application"):
            return ALLOWED
    seen = can_view_call(user, call)
    if not seen:
        return seen
    return Decision(False, _("The programme chose another approver for this call's list."))


def can_read_minutes(user, call):
    """Every member's declarations and scores: staff of the call's centres and the
    committee's chair."""
    if works_in_call(user, call) or Committee.objects.filter(call=call, chair=user).exists():
        return ALLOWED
    seen = can_view_call(user, call)
    if not seen:
        return seen
    return Decision(False, _("The minutes are for the chair and the programme's staff."))


@grant_permissions.approver_check(ListApprover.CHAIR)
def _is_chair(user, application):
    return Committee.objects.filter(call_id=application.call_id, chair_id=user.pk).exists()
