"""Roles are groups; a role is recognised by a marker permission's codename, never by the
group's (translatable) name. The data migration grants each group exactly these."""

APPLICANT = "applicant"
FIELD_OFFICER = "field_officer"
PROGRAMME_MANAGER = "programme_manager"
FINANCE_OFFICER = "finance_officer"
AUDITOR = "auditor"

STAFF_ROLES = (FIELD_OFFICER, PROGRAMME_MANAGER, FINANCE_OFFICER, AUDITOR)
ALL_ROLES = (APPLICANT, *STAFF_ROLES)

GROUP_NAMES = {
    APPLICANT: "Applicants",
    FIELD_OFFICER: "Field officers",
    PROGRAMME_MANAGER: "Programme managers",
    FINANCE_OFFICER: "Finance officers",
    AUDITOR: "Auditors",
}

_VIEW_WORK = [
    "applicants.view_applicant",
    "applicants.view_integrationcentre",
    "grants.view_programme",
    "grants.view_grantapplication",
    "grants.view_equipmentitem",
    "grants.view_document",
    "grants.view_delivery",
    "grants.view_commitment",
    "grants.view_auditevent",
    "assessments.view_assessment",
    "assessments.view_trainingcohort",
    "assessments.view_monitoringvisit",
]

ROLE_PERMISSIONS = {
    APPLICANT: [
        "applicants.role_applicant",
        "applicants.view_applicant",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.add_grantapplication",
        "grants.change_grantapplication",
        "grants.submit_application",
        "grants.withdraw_application",
        "grants.view_document",
        "grants.add_document",
    ],
    FIELD_OFFICER: [
        "applicants.role_field_officer",
        *_VIEW_WORK,
        "applicants.add_applicant",
        "applicants.change_applicant",
        "applicants.decide_duplicate",
        "grants.add_grantapplication",
        "grants.change_grantapplication",
        "grants.add_document",
        "grants.add_delivery",
        "grants.submit_application",
        "grants.return_application",
        "grants.admit_application",
        "grants.reject_application",
        "grants.withdraw_application",
        "grants.record_delivery",
        "grants.start_follow_up",
        "grants.complete_application",
        "grants.discontinue_application",
        "grants.view_sensitive",
        "assessments.add_assessment",
        "assessments.add_trainingcohort",
        "assessments.change_trainingcohort",
        "assessments.add_attendance",
        "assessments.change_monitoringvisit",
    ],
    PROGRAMME_MANAGER: [
        "applicants.role_programme_manager",
        *_VIEW_WORK,
        "applicants.export_personal_data",
        "applicants.decide_duplicate",
        "grants.add_programme",
        "grants.change_programme",
        "grants.approve_application",
        "grants.reject_application",
        "grants.cancel_application",
        "grants.view_sensitive",
        "grants.view_reports",
        "grants.view_finance",
        "assessments.change_rubriccriterion",
        "assessments.add_rubriccriterion",
    ],
    FINANCE_OFFICER: [
        "applicants.role_finance_officer",
        "applicants.view_integrationcentre",
        "grants.view_programme",
        "grants.view_grantapplication",
        "grants.view_equipmentitem",
        "grants.view_document",
        "grants.add_document",
        "grants.view_delivery",
        "grants.add_delivery",
        "grants.view_commitment",
        "grants.record_delivery",
        "grants.view_reports",
        "grants.view_finance",
        "grants.add_exchangerate",
        "grants.view_exchangerate",
    ],
    AUDITOR: [
        "applicants.role_auditor",
        "grants.view_reports",
        "grants.view_auditevent",
    ],
}


def has_role(user, role):
    return bool(user and user.is_authenticated and user.has_perm(f"applicants.role_{role}"))


def roles_of(user):
    return [role for role in ALL_ROLES if has_role(user, role)]


def is_staff_member(user):
    return any(has_role(user, role) for role in STAFF_ROLES)
