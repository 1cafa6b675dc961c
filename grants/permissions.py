"""Who may do what to which application: `can_<verb>(user, obj) -> Decision`.

Two layers, both required: the role's model permission (from its group) says what kind
of action a user may take; the object permission (guardian: the applicant's own grant,
or staff's `access_centre` on the application's centre) says on which records.
A Decision carries the reason the UI and the API show.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from guardian.core import ObjectPermissionChecker

from applicants import roles
from applicants.selectors import centre_ids

from .models import GrantApplication
from .workflow import COMMENT_REQUIRED  # noqa: F401  (re-exported for views)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    # False when the object must not even be acknowledged (answer 404, not 403).
    visible: bool = True

    def __bool__(self):
        return self.allowed


ALLOWED = Decision(True)
NOT_VISIBLE = Decision(False, _("Not found."), visible=False)

# Transitions an applicant may take on their own application.
OWNER_TRANSITIONS = {"submit", "withdraw"}
# Transitions that staff take for the applicant, recorded as "on behalf of".
ON_BEHALF_TRANSITIONS = {"submit", "withdraw"}


def _checker(user):
    checker = getattr(user, "_object_permission_checker", None)
    if checker is None:
        checker = ObjectPermissionChecker(user)
        user._object_permission_checker = checker
    return checker


def is_own(user, application):
    """The application is the user's own (guardian grant given at creation)."""
    if not user.is_authenticated:
        return False
    return _checker(user).has_perm("view_grantapplication", application)


def works_at_centre(user, centre_id):
    return roles.is_staff_member(user) and centre_id in centre_ids(user)


def is_party(user, application):
    """Staff who are themselves the applicant (or a cooperative member) never act on it."""
    if application.applicant.user_id == user.pk:
        return True
    return application.is_cooperative and application.members.filter(user_id=user.pk).exists()


def can_view_application(user, application):
    if not user.is_authenticated:
        return NOT_VISIBLE
    if is_own(user, application):
        return ALLOWED
    if works_at_centre(user, application.centre_id) and user.has_perm("grants.view_grantapplication"):
        return ALLOWED
    return NOT_VISIBLE


def can_edit_application(user, application):
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if application.state != "draft":
        return Decision(False, _("Only a draft can be edited."))
    if is_own(user, application) and user.has_perm("grants.change_grantapplication"):
        return ALLOWED
    if roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("grants.change_grantapplication"):
        if is_party(user, application):
            return Decision(False, _("You cannot act on your own application."))
        return ALLOWED
    return Decision(False, _("Your role cannot edit applications."))


def can_view_sensitive(user, application):
    """Referral, return details and ethnicity: the assigned field officer and the
    centre's programme managers only (and the person themselves)."""
    if not user.is_authenticated:
        return Decision(False, _("Not allowed."))
    if application.applicant.user_id == user.pk:
        return ALLOWED
    if not user.has_perm("grants.view_sensitive"):
        return Decision(False, _("Your role does not see sensitive facts."))
    if not works_at_centre(user, application.centre_id):
        return Decision(False, _("Not your centre."))
    if roles.has_role(user, roles.PROGRAMME_MANAGER):
        return ALLOWED
    if roles.has_role(user, roles.FIELD_OFFICER) and application.assigned_officer_id == user.pk:
        return ALLOWED
    return Decision(False, _("Only the assigned field officer and the centre's managers see this."))


def can_transition(user, application, name):
    """May `user` take transition `name` on `application` (permission side only; the
    workflow's own rules are checked by the service)."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    transition = _transition(application, name)
    if transition is None:
        return Decision(False, _("Unknown action."))
    permission = transition.permission
    if is_own(user, application) and not roles.is_staff_member(user):
        if name in OWNER_TRANSITIONS and user.has_perm(permission):
            return ALLOWED
        return Decision(False, _("Only staff can take this step."))
    if is_party(user, application):
        return Decision(False, _("You cannot act on your own application."))
    if not user.has_perm(permission):
        return Decision(False, _("Your role cannot take this step."))
    if name == "approve":
        assessment = application.current_assessment()
        if assessment is not None and assessment.assessor_id == user.pk:
            return Decision(False, _("You assessed this application; another person must approve it."))
    if name == "record_delivery" and application.approved_by_id == user.pk:
        return Decision(False, _("You approved this grant; another person must record its delivery."))
    return ALLOWED


def can_record_delivery_lines(user, application):
    """Recording a partial delivery follows the rules of the record_delivery step."""
    return can_transition(user, application, "record_delivery")


def acts_on_behalf(user, application):
    """Staff doing an applicant's action: the audit row names the applicant."""
    return roles.is_staff_member(user) and not is_own(user, application)


def _transition(application, name):
    method = getattr(type(application), name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        return None
    for transition in meta.transitions.values():
        return transition
    return None


def transition_meta(name):
    method = getattr(GrantApplication, name, None)
    return getattr(method, "_django_fsm", None)
