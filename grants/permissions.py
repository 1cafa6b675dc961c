"""Who may do what to which application: `can_<verb>(user, obj) -> Decision`.

Two layers, both required: the role's model permission (from its group) says what kind
of action a user may take; the object permission (guardian: the applicant's own grant,
or staff's `access_centre` on the application's centre) says on which records.
A Decision carries the reason the UI and the API show, and whether the object may even
be acknowledged (404 rather than 403). docs/permissions.md has the whole picture.
"""

from django.utils.translation import gettext_lazy as _
from guardian.core import ObjectPermissionChecker

from applicants import roles, sensitivity
from applicants.selectors import centre_ids
from core.decisions import ALLOWED, NOT_VISIBLE, Decision

from . import transitions
from .models import DocumentKind, GrantApplication, ListApprover
from .selectors import in_programme_scope
from .workflow import State

OWN_APPLICATION = _("You cannot act on your own application.")


# Documents whose mere existence reveals a sensitive fact (a release certificate says
# the person was in prison): shown only to those who see the sensitive section.
DOCUMENT_CLASSES = {
    DocumentKind.RELEASE_CERTIFICATE: sensitivity.CRIMINAL,
    DocumentKind.RETURN_CERTIFICATE: sensitivity.SPECIAL,
}
SENSITIVE_DOCUMENT_KINDS = sorted(str(kind) for kind in DOCUMENT_CLASSES)


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


def is_contact(user, application):
    """The person the application is from (or who holds its change permission as
    they do): cooperative members see it, only its contact person edits it and takes
    its steps."""
    if not user.is_authenticated:
        return False
    return _checker(user).has_perm("change_grantapplication", application)


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
    # Staff first: the request knows their role and centres after one query, whereas
    # guardian asks the database about each object (twice).
    if (
        works_at_centre(user, application.centre_id)
        and user.has_perm("grants.view_grantapplication")
        and in_programme_scope(user, application)
    ):
        return ALLOWED
    if is_own(user, application):
        return ALLOWED
    return NOT_VISIBLE


def can_edit_application(user, application):
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if roles.is_staff_member(user) and is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    if application.state != "draft":
        return Decision(False, _("Only a draft can be edited."))
    if roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("grants.change_grantapplication"):
        return ALLOWED
    if is_contact(user, application) and user.has_perm("grants.change_grantapplication"):
        return ALLOWED
    if is_own(user, application):
        return Decision(False, _("Only the cooperative's contact person edits the application."))
    return Decision(False, _("Your role cannot edit applications."))


def can_view_sensitive(user, application):
    """Referral, return details and ethnicity: the assigned field officer and the
    centre's programme managers only (and the person themselves)."""
    allowed, reason = sensitivity.sensitive_access(user, application.applicant)
    return ALLOWED if allowed else Decision(False, reason)


def can_view_document(user, document):
    """Open or download one document: whoever sees its application and whose role reads
    documents; release and return certificates only with the sensitive section."""
    seen = can_view_application(user, document.application)
    if not seen:
        return seen
    if not user.has_perm("grants.view_document"):
        return Decision(False, _("Your role cannot open documents."))
    if document.kind in DOCUMENT_CLASSES:
        allowed, _reason = sensitivity.sensitive_access(user, document.application.applicant)
        if not allowed:
            # Its existence is the sensitive fact: answer as if there were no such document.
            return NOT_VISIBLE
    return ALLOWED


def visible_documents(user, application, documents):
    """Narrow a queryset of `application`'s documents to those the user may open, in the
    database (a list never loads what it then hides)."""
    if not user.has_perm("grants.view_document") and not is_own(user, application):
        return documents.none()
    if not sensitivity.can_see_sensitive(user, application.applicant):
        return documents.exclude(kind__in=SENSITIVE_DOCUMENT_KINDS)
    return documents


def can_view_ledger(user, application):
    """The grant's money (commitment, invoices, costs): finance officers and programme
    managers of the application's centre."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not roles.is_staff_member(user) or not user.has_perm("grants.view_finance"):
        return Decision(False, _("Your role does not see the grant's finances."))
    return ALLOWED


def can_view_finance(user):
    """The finance pages (budgets, deliveries, commitments): finance officers and
    programme managers, for their centres."""
    if not user.has_perm("grants.view_finance"):
        return Decision(False, _("Your role does not see budgets and deliveries."))
    return ALLOWED


# The programme chooses who approves its grants (Programme.list_approver). The committee
# chair is known to the selection app, which registers the check when it is ready
# (`approver_check`), so that grants does not import it.
APPROVER_CHECKS = {}


def approver_check(choice):
    """Register `fn(user, application) -> bool` for an approver choice (a decorator)."""

    def register(fn):
        APPROVER_CHECKS[choice] = fn
        return fn

    return register


def is_chosen_approver(user, application):
    """The user is of the kind the programme chose to approve its grants: a programme
    manager (the approve permission), a field officer, or the call committee's chair."""
    choice = application.programme.list_approver
    if choice == ListApprover.MANAGER:
        return user.has_perm(transitions.APPROVE.permission)
    if choice == ListApprover.OFFICER:
        return roles.has_role(user, roles.FIELD_OFFICER)
    check = APPROVER_CHECKS.get(choice)
    return check is not None and bool(check(user, application))


def can_transition(user, application, name):
    """May `user` take transition `name` on `application` (permission side only; the
    workflow's own rules are checked by the service)."""
    if name == transitions.APPROVE.name:
        return _can_approve(user, application)
    seen = can_view_application(user, application)
    if not seen:
        return seen
    step = transitions.step(name)
    if step is None:
        return Decision(False, _("Unknown action."))
    permission = step.permission
    if not roles.is_staff_member(user) and is_own(user, application):
        if transitions.step(name).owner and user.has_perm(permission) and is_contact(user, application):
            return ALLOWED
        return Decision(False, _("Only staff can take this step."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    if not user.has_perm(permission):
        return Decision(False, _("Your role cannot take this step."))
    if name == "record_delivery" and application.approved_by_id == user.pk:
        return Decision(False, _("You approved this grant; another person must record its delivery."))
    return ALLOWED


def prints_signed_forms(user, application, refusal):
    """The forms a beneficiary signs (handover protocol, grant contract): staff who record
    deliveries or see the grant's finances, at its centre; `refusal` for other roles."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not roles.is_staff_member(user) or not (
        user.has_perm("grants.record_delivery") or user.has_perm("grants.view_finance")
    ):
        return Decision(False, refusal)
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    return ALLOWED


def can_print_contract(user, application):
    """Print the grant contract and see its state (signed copy, own contribution,
    registration): as the handover protocol."""
    return prints_signed_forms(user, application, _("Your role does not print grant contracts."))


def can_record_payment(user, application):
    """Record or reverse a payment of the own contribution: finance officers and
    programme managers of the centre."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not roles.is_staff_member(user) or not user.has_perm("grants.add_contributionpayment"):
        return Decision(False, _("Your role does not record contribution payments."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    return ALLOWED


def can_record_registration(user, application):
    """Record the business's registration: the centre's field officers, until the grant
    is closed."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not (roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("grants.change_grantapplication")):
        return Decision(False, _("Field officers record the business registration."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    if application.state in State.ENDS:
        return Decision(False, _("This application is closed."))
    return ALLOWED


def _can_approve(user, application):
    """The programme's chosen approver (the committee chair sees it through the
    committee, not the centre), never the applicant, never the one who assessed it."""
    chair = application.programme.list_approver == ListApprover.CHAIR and is_chosen_approver(
        user, application
    )
    if not chair:
        seen = can_view_application(user, application)
        if not seen:
            return seen
        if not roles.is_staff_member(user) and is_own(user, application):
            return Decision(False, _("Only staff can take this step."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    if not is_chosen_approver(user, application):
        return Decision(False, _("Your role cannot take this step."))
    if application.assessments.filter(assessor=user).exists():
        return Decision(False, _("You assessed this application; another person must approve it."))
    return ALLOWED


def can_record_delivery_lines(user, application):
    """Recording a partial delivery follows the rules of the record_delivery step."""
    return can_transition(user, application, "record_delivery")


def can_reapprove_cost(user, application):
    """A delivery above the approved cost (plus the programme's tolerance) needs a
    programme manager of the centre, who may approve grants, and who is not a party
    to it (docs/design.md, "Cost control")."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not (roles.has_role(user, roles.PROGRAMME_MANAGER) and user.has_perm("grants.approve_application")):
        return Decision(False, _("Only a programme manager re-approves the cost of a grant's equipment."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    return ALLOWED


def can_reassign(user, application, officer=None):
    """A programme manager of the centre gives the application to another field officer
    of that centre (docs/design.md: managers reassign work)."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not (
        roles.has_role(user, roles.PROGRAMME_MANAGER) and user.has_perm("grants.change_grantapplication")
    ):
        return Decision(False, _("Only programme managers reassign applications."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    if officer is not None:
        if not roles.has_role(officer, roles.FIELD_OFFICER) or application.centre_id not in centre_ids(
            officer
        ):
            return Decision(False, _("Choose a field officer of the application's centre."))
        if is_party(officer, application):
            return Decision(False, _("The officer is the applicant of this application."))
    return ALLOWED


def can_override_household(user, application):
    """A programme manager of the centre lets one application be approved although the
    person or household already holds a grant of the programme (a reason is required),
    while the application is still to be decided."""
    seen = can_view_application(user, application)
    if not seen:
        return seen
    if not (roles.has_role(user, roles.PROGRAMME_MANAGER) and user.has_perm("grants.add_householdoverride")):
        return Decision(False, _("Only programme managers allow a second grant in a household."))
    if is_party(user, application):
        return Decision(False, OWN_APPLICATION)
    if application.state not in (State.DRAFT, State.SUBMITTED, State.BUSINESS_TRAINING):
        return Decision(False, _("Only an application still to be decided can be allowed a second grant."))
    return ALLOWED


def acts_on_behalf(user, application):
    """A field officer doing an applicant's action: the audit row names the applicant."""
    return roles.has_role(user, roles.FIELD_OFFICER) and not is_own(user, application)


def transition_meta(name):
    """django-fsm's record of transition `name` (its transitions by source state), or
    None for a name that is not in the transition table."""
    if transitions.step(name) is None:
        return None
    return getattr(GrantApplication, name)._django_fsm


def can_read_audit_trail(user):
    """The trail outside the admin (the API, the page): superusers and the staff roles
    with grants.view_auditevent (field officers, programme managers, the auditor)."""
    if user.is_authenticated and (
        user.is_superuser or (roles.is_staff_member(user) and user.has_perm("grants.view_auditevent"))
    ):
        return ALLOWED
    return Decision(False, _("Your role does not read the audit trail."))


def transfer_destination_problem(applicant, to_centre):
    """Why `applicant` cannot move to `to_centre`, or None. Programmes belong to a
    country, so a case moves within its country."""
    if to_centre.pk == applicant.centre_id:
        return _("The person is already at this centre.")
    if to_centre.country_id != applicant.centre.country_id:
        return _("Choose a centre in the same country: the person's applications belong to its programmes.")
    return None


def _moves_cases(user):
    return user.is_superuser or (
        roles.has_role(user, roles.PROGRAMME_MANAGER) and user.has_perm("grants.change_grantapplication")
    )


def can_transfer_case(user, applicant):
    """Move a person, with their open applications, to another centre at once: a
    programme manager of the person's centre (docs/permissions.md, "Transfer of a case")."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if not user.is_superuser and not (
        roles.sees_personal_data(user) and works_at_centre(user, applicant.centre_id)
    ):
        return NOT_VISIBLE
    if not _moves_cases(user):
        return Decision(
            False,
            _(
                "Only programme managers move a person to another centre; a field officer of the "
                "receiving centre may ask for it."
            ),
        )
    if applicant.user_id == user.pk:
        return Decision(False, OWN_APPLICATION)
    return ALLOWED


def can_request_transfer(user, to_centre):
    """Ask for a person to be moved to `to_centre`: a field officer who works there."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if not (
        roles.has_role(user, roles.FIELD_OFFICER)
        and user.has_perm("grants.add_grantapplication")
        and to_centre.pk in centre_ids(user)
    ):
        return Decision(
            False, _("Field officers of the receiving centre ask for a person to be moved there.")
        )
    return ALLOWED


def can_view_transfer(user, transfer):
    """Staff who read personal records at the sending or the receiving centre."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if user.is_superuser:
        return ALLOWED
    if roles.sees_personal_data(user) and (
        works_at_centre(user, transfer.from_centre_id) or works_at_centre(user, transfer.to_centre_id)
    ):
        return ALLOWED
    return NOT_VISIBLE


def can_decide_transfer(user, transfer):
    """Confirm or decline a requested transfer: a field officer or programme manager of
    the sending centre, never the person themselves."""
    seen = can_view_transfer(user, transfer)
    if not seen:
        return seen
    if not user.is_superuser and not works_at_centre(user, transfer.from_centre_id):
        return Decision(False, _("The sending centre confirms or declines a transfer."))
    if not (
        user.is_superuser
        or roles.has_role(user, roles.PROGRAMME_MANAGER)
        or roles.has_role(user, roles.FIELD_OFFICER)
    ):
        return Decision(False, _("The sending centre confirms or declines a transfer."))
    if transfer.applicant.user_id == user.pk:
        return Decision(False, OWN_APPLICATION)
    return ALLOWED
