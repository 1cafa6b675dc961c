"""Roles are groups; a role is recognised by a marker permission's codename, never by the
group's (translatable) name. The data migrations grant each group exactly these.

Each list follows docs/design.md's role table, verb by verb; the model permissions say what
kind of thing a role does, guardian's object permissions (see docs/permissions.md) say on
which records. Two rules the lists keep by leaving permissions out:
- finance never sees criminal-record or ethnicity data: no `grants.view_sensitive`, no
  `applicants.view_applicant` (the applicant records), no certificates of release or return;
- the auditor reads aggregate reports and the audit trail only: no personal data at all.
"""

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

APPLICANT = "applicant"
FIELD_OFFICER = "field_officer"
PROGRAMME_MANAGER = "programme_manager"
FINANCE_OFFICER = "finance_officer"
AUDITOR = "auditor"
PROCUREMENT_OFFICER = "procurement_officer"
COMMITTEE_MEMBER = "committee_member"
MNE_OFFICER = "mne_officer"
REFERRAL_PARTNER = "referral_partner"
SAFEGUARDING_FOCAL_POINT = "safeguarding_focal_point"

STAFF_ROLES = (
    FIELD_OFFICER,
    PROGRAMME_MANAGER,
    FINANCE_OFFICER,
    AUDITOR,
    PROCUREMENT_OFFICER,
    COMMITTEE_MEMBER,
    MNE_OFFICER,
    REFERRAL_PARTNER,
    SAFEGUARDING_FOCAL_POINT,
)
ALL_ROLES = (APPLICANT, *STAFF_ROLES)

# Default display names only: access never depends on them.
GROUP_NAMES = {
    APPLICANT: "Applicants",
    FIELD_OFFICER: "Field officers",
    PROGRAMME_MANAGER: "Programme managers",
    FINANCE_OFFICER: "Finance officers",
    AUDITOR: "Auditors",
    PROCUREMENT_OFFICER: "Procurement officers",
    COMMITTEE_MEMBER: "Selection committee members",
    MNE_OFFICER: "M&E officers",
    REFERRAL_PARTNER: "Referral partners",
    SAFEGUARDING_FOCAL_POINT: "Safeguarding focal points",
}

ROLE_PERMISSIONS = {
    # registers, writes the business plan with an equipment list, uploads documents,
    # submits, follows the status, withdraws (on their own records only)
    APPLICANT: [
        "applicants.role_applicant",
        "applicants.view_applicant",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.add_grantapplication",
        "grants.change_grantapplication",
        "grants.view_equipmentitem",
        "grants.submit_application",
        "grants.withdraw_application",
        "grants.view_document",
        "grants.add_document",
    ],
    # registers applicants, screens, enrols in business training, records attendance,
    # visits the site, scores, recommends, records delivery and follow-up visits; does
    # every applicant action on the applicant's behalf
    FIELD_OFFICER: [
        "applicants.role_field_officer",
        "applicants.view_integrationcentre",
        "applicants.view_applicant",
        "applicants.add_applicant",
        "applicants.change_applicant",
        "applicants.add_consentrecord",
        "applicants.view_duplicateflag",
        "applicants.decide_duplicate",
        "grants.view_sensitive",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.add_grantapplication",
        "grants.change_grantapplication",
        "grants.view_equipmentitem",
        "grants.view_document",
        "grants.add_document",
        "grants.view_auditevent",
        "grants.submit_application",
        "grants.withdraw_application",
        "grants.return_application",
        "selection.score_application",
        "grants.admit_application",
        "grants.reject_application",
        "grants.view_delivery",
        "grants.add_delivery",
        "grants.record_delivery",
        "grants.start_follow_up",
        "grants.complete_application",
        "grants.discontinue_application",
        "assessments.view_trainingcohort",
        "assessments.add_trainingcohort",
        "assessments.change_trainingcohort",
        "assessments.view_enrolment",
        "assessments.add_enrolment",
        "assessments.view_attendance",
        "assessments.add_attendance",
        "assessments.change_attendance",
        "assessments.view_assessment",
        "assessments.add_assessment",
        "assessments.view_monitoringvisit",
        "assessments.change_monitoringvisit",
        # ordinary complaints of their centres, never those about themselves
        # (complaints.permissions)
        "complaints.view_complaint",
    ],
    # runs programmes and calls, approves or rejects (never their own assessment),
    # reassigns work; sees the centre's sensitive facts and may export personal data
    PROGRAMME_MANAGER: [
        "applicants.role_programme_manager",
        "applicants.view_integrationcentre",
        "applicants.view_applicant",
        "applicants.view_duplicateflag",
        "applicants.decide_duplicate",
        "applicants.export_personal_data",
        "applicants.view_staffassignment",
        "applicants.add_staffassignment",
        "applicants.delete_staffassignment",
        "grants.view_sensitive",
        "grants.view_programme",
        "grants.add_programme",
        "grants.change_programme",
        "grants.view_grantapplication",
        # the administrative fields only (the assigned officer): drafts are edited by
        # the applicant or a field officer (grants.permissions.can_edit_application)
        "grants.change_grantapplication",
        "grants.view_equipmentitem",
        "grants.view_document",
        "grants.view_auditevent",
        "grants.approve_application",
        "grants.reject_application",
        "grants.cancel_application",
        # a second grant in one household, with a reason (grants.households)
        "grants.view_householdoverride",
        "grants.add_householdoverride",
        "grants.view_commitment",
        "grants.view_delivery",
        "grants.view_reports",
        "grants.view_finance",
        "grants.view_grantcontract",
        "grants.view_contributionpayment",
        "grants.add_contributionpayment",
        "grants.view_supplier",
        "grants.view_supplierquote",
        "grants.view_purchaseorder",
        "grants.view_conflictdeclaration",
        "grants.add_conflictdeclaration",
        "selection.score_application",
        "assessments.view_rubriccriterion",
        "assessments.add_rubriccriterion",
        "assessments.change_rubriccriterion",
        # the programme's indicators and targets (reports.admin)
        "reports.view_indicator",
        "reports.add_indicator",
        "reports.change_indicator",
        "reports.delete_indicator",
        "reports.view_indicatortarget",
        "reports.add_indicatortarget",
        "reports.change_indicatortarget",
        "reports.delete_indicatortarget",
        "assessments.view_trainingcohort",
        "assessments.view_assessment",
        "assessments.view_monitoringvisit",
        # owns and answers the ordinary complaints of their centres, reads the register
        "complaints.view_complaint",
        "complaints.handle_complaint",
        "complaints.view_complaint_register",
    ],
    # sees budgets, commitments and deliveries, records procurement and handover,
    # reconciles, exports donor reports; never criminal-record or ethnicity data
    FINANCE_OFFICER: [
        "applicants.role_finance_officer",
        "applicants.view_integrationcentre",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.view_equipmentitem",
        "grants.view_document",
        "grants.add_document",
        "grants.view_commitment",
        "grants.view_delivery",
        "grants.add_delivery",
        "grants.record_delivery",
        "grants.view_exchangerate",
        "grants.add_exchangerate",
        "grants.change_exchangerate",
        "grants.view_reports",
        "grants.view_finance",
        "grants.view_grantcontract",
        "grants.view_contributionpayment",
        "grants.add_contributionpayment",
        # the finance half of a purchase order's four eyes
        "grants.view_supplier",
        "grants.view_supplierquote",
        "grants.view_purchaseorder",
        "grants.approve_purchaseorder",
        "grants.add_conflictdeclaration",
    ],
    # keeps the supplier register, compares quotes, chooses one per item, orders from the
    # supplier and approves orders others made; like finance, knows grants by number,
    # business and items only: no applicant records, sensitive facts or names
    PROCUREMENT_OFFICER: [
        "applicants.role_procurement_officer",
        "applicants.view_integrationcentre",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.view_equipmentitem",
        "grants.view_document",
        "grants.add_document",
        "grants.view_supplier",
        "grants.add_supplier",
        "grants.change_supplier",
        "grants.vet_supplier",
        "grants.view_conflictdeclaration",
        "grants.add_conflictdeclaration",
        "grants.view_supplierquote",
        "grants.add_supplierquote",
        "grants.change_supplierquote",
        "grants.view_purchaseorder",
        "grants.add_purchaseorder",
        "grants.approve_purchaseorder",
    ],
    # read-only: aggregate reports and the audit trail, no personal data
    AUDITOR: [
        "applicants.role_auditor",
        "grants.view_programme",
        "grants.view_reports",
        "grants.view_auditevent",
        # the register's counts, small ones withheld (complaints.selectors)
        "complaints.view_complaint_register",
    ],
    # an external member of a call's selection committee: declares conflicts and scores
    # the applications of their committees' calls, nothing else (selection.permissions);
    # sensitive facts only where the programme allows (Programme.committee_sees_sensitive)
    COMMITTEE_MEMBER: [
        "applicants.role_committee_member",
        "selection.score_application",
    ],
    # monitoring and evaluation: the visits and the figures of the centres they work for
    # (usually several), grants by number, business and state; no step of the workflow,
    # no applicant records, documents or sensitive facts; public labels like finance
    MNE_OFFICER: [
        "applicants.role_mne_officer",
        "applicants.view_integrationcentre",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.view_reports",
        "assessments.view_trainingcohort",
        "assessments.view_monitoringvisit",
    ],
    # an outside organisation (a Roma association, the employment service) that refers
    # people to a centre: it reads what became of its own referrals (grants.referrals),
    # without names, sensitive facts or anything else
    REFERRAL_PARTNER: [
        "applicants.role_referral_partner",
    ],
    # the organisation's designated person for complaints of sexual misconduct or abuse of
    # power: owns, answers and alone reads those cases (complaints.permissions), and none
    # of the ordinary ones; no applicant records, no grants
    SAFEGUARDING_FOCAL_POINT: [
        "applicants.role_safeguarding_focal_point",
        "complaints.view_complaint",
        "complaints.handle_complaint",
        "complaints.handle_safeguarding_complaint",
        "complaints.view_complaint_register",
    ],
}


def group_of(role):
    """The role's group, found by its marker permission (its name may be translated)."""
    return Group.objects.get(
        permissions__content_type__app_label="applicants", permissions__codename=f"role_{role}"
    )


def has_role(user, role):
    return bool(user and user.is_authenticated and user.has_perm(f"applicants.role_{role}"))


def roles_of(user):
    return [role for role in ALL_ROLES if has_role(user, role)]


def is_staff_account(user):
    """Every staff role, and anyone who can reach the admin site."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or is_staff_member(user)


def needs_two_factor(user):
    """Staff sign in with a TOTP code after the password (switchable off only for local
    experiments)."""
    return settings.REQUIRE_STAFF_OTP and is_staff_account(user)


def is_staff_member(user):
    return any(has_role(user, role) for role in STAFF_ROLES)


def sees_personal_data(user):
    """Staff whose role reads applicants' personal records (not finance, not the auditor)."""
    return has_role(user, FIELD_OFFICER) or has_role(user, PROGRAMME_MANAGER)


def role_required(*allowed):
    """The page is for these roles; anyone else signed in gets 403 with the reason."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(has_role(request.user, role) for role in allowed):
                raise PermissionDenied(_("This page is not available to your role."))
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def uses_public_labels(user):
    """Staff whose role does not see sensitive facts (finance, the auditor) know
    programmes and centres only by their public labels, everywhere: a name that says
    "prison" or "return" next to a grant they can tie to a person would tell them what
    their role may not know (docs/permissions.md, "Public labels")."""
    return is_staff_member(user) and not user.is_superuser and not user.has_perm("grants.view_sensitive")


def sees_names(user):
    """Whether lists, pages, the API and history name the people behind the grants:
    not for the roles that know programmes and centres only by their public labels
    (finance reads the beneficiary's name on the handover protocol only)."""
    return not uses_public_labels(user)
