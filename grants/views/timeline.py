"""The audit trail told in plain words: what the applicant reads as their timeline, and
the labels staff read in the history table."""

from django.utils.translation import gettext_lazy as _

from .. import transitions

# What happened, said to the applicant. Each has a sentence for "you did it", one for
# "staff did it for you" and one for staff acting on their own account.
_PERSONAL = {
    "create": (
        _("You started the application."),
        _("%(actor)s started the application on your behalf."),
        _("%(actor)s started the application for you."),
    ),
    "edit": (
        _("You changed the application."),
        _("%(actor)s changed the application on your behalf."),
        _("%(actor)s changed the application."),
    ),
    "submit": (
        _("You sent the application."),
        _("%(actor)s sent the application on your behalf."),
        _("%(actor)s sent the application."),
    ),
    "withdraw": (
        _("You withdrew the application."),
        _("%(actor)s withdrew the application on your behalf."),
        _("%(actor)s withdrew the application."),
    ),
    "document_uploaded": (
        _("You added a document."),
        _("%(actor)s added a document on your behalf."),
        _("%(actor)s added a document."),
    ),
}
_BY_STAFF = {
    "return_for_changes": _("%(actor)s gave the application back to you for changes."),
    "admit_to_training": _("You were admitted to the business training."),
    "enrolled": _("You were placed in a business-training course."),
    "assessed": _("Your field officer assessed your business plan."),
    "approve": _("Your grant was approved. The equipment will now be bought."),
    "reject": _("Your application was not approved."),
    "cancel": _("Your approved grant was cancelled."),
    "delivery": _("Equipment was handed over to you."),
    "record_delivery": _("All your equipment has been delivered."),
    "start_follow_up": _("Follow-up visits to your business were planned."),
    "visit_recorded": _("A field officer visited your business."),
    "complete": _("Your grant is completed. Thank you for taking part."),
    "discontinue": _("Your grant was closed."),
}
# Shown to the applicant with the comment: the reason they are owed.
_COMMENT_SHOWN = {name for name, step in transitions.STEPS.items() if step.comment_required}

# The history's label of every action the audit trail records: the transitions' from
# the transition table, the others here (tests/test_i18n.py fails for an action written
# anywhere without a label here, or a label without a translation).
ACTION_LABELS = {
    **{name: step.history for name, step in transitions.STEPS.items()},
    "create": _("Created"),
    "edit": _("Edited"),
    "enrolled": _("Enrolled in training"),
    "assessed": _("Assessed"),
    "delivery": _("Delivery recorded"),
    "delivery_cost_reapproved": _("Delivery cost re-approved"),
    "equipment_outcomes_recorded": _("Outcome of the equipment recorded"),
    "equipment_reallocated": _("Equipment received from a closed business"),
    "visit_recorded": _("Visit recorded"),
    "document_uploaded": _("Document uploaded"),
    "document_downloaded": _("Document opened"),
    "document_deleted": _("Document deleted"),
    "document_lost": _("Document missing from storage"),
    "handover_protocol_printed": _("Handover protocol printed"),
    "contract_issued": _("Grant contract issued"),
    "contract_printed": _("Grant contract printed"),
    "contract_signed_received": _("Signed grant contract received"),
    "contribution_paid": _("Own contribution payment recorded"),
    "contribution_reversed": _("Own contribution payment reversed"),
    "business_registered": _("Business registration recorded"),
    "supplier_created": _("Supplier registered"),
    "supplier_changed": _("Supplier changed"),
    "supplier_vetted": _("Supplier vetted"),
    "conflict_declared": _("Conflict of interest declared"),
    "quote_added": _("Supplier quote added"),
    "quote_chosen": _("Supplier quote chosen"),
    "purchase_order_created": _("Purchase order created"),
    "purchase_order_approved": _("Purchase order approved"),
    "purchase_order_printed": _("Purchase order printed"),
    "certificate_issued": _("Training certificate issued"),
    "sensitive_viewed": _("Sensitive facts viewed"),
    "register_applicant": _("Person registered"),
    "register_institution": _("Institution registered"),
    "institution_changed": _("Institution changed"),
    "institution_deleted": _("Institution deleted"),
    "contact_channels_changed": _("Channels for news changed"),
    "consent_given": _("Consent given"),
    "consent_withdrawn": _("Consent withdrawn"),
    "duplicate_decided": _("Possible duplicate decided"),
    "applicants_imported": _("People imported"),
    "cohort_created": _("Training course created"),
    "headcount_recorded": _("Participants counted without names"),
    "meeting_recorded": _("Meeting recorded"),
    "referral_reviewed": _("Referring institution reviewed"),
    "personal_data_exported": _("Personal data exported"),
    "applicant_pseudonymised": _("Personal data erased"),
    "staff_assigned": _("Staff member assigned to the centre"),
    "staff_unassigned": _("Staff member removed from the centre"),
    "two_factor_enrolled": _("Two-factor sign-in set up"),
    "api_token_issued": _("API token issued"),
    "api_token_revoked": _("API token revoked"),
    "service_account_created": _("Service account created"),
    "service_account_key_rotated": _("Service account given a new key"),
    "service_account_revoked": _("Service account revoked"),
    "webhook_registered": _("Webhook registered"),
    "webhook_removed": _("Webhook removed"),
    "webhook_enabled": _("Webhook turned back on"),
    "webhook_disabled": _("Webhook turned off after repeated failures"),
    "form_submission_recorded": _("Form submission recorded as a visit"),
    "form_submission_refused": _("Form submission refused"),
    "form_submission_dismissed": _("Form submission dismissed"),
    "api_tokens_revoked": _("All API tokens revoked"),
    "exchange_rates_loaded": _("Exchange rates loaded"),
    "programme_created": _("Programme created"),
    "programme_changed": _("Programme changed"),
    "programme_deleted": _("Programme deleted"),
    "programme_rubriccriterion_changed": _("Scoring rubric changed"),
    "programme_call_changed": _("Calls changed"),
    "indicator_changed": _("Indicator changed"),
    "indicator_targets_changed": _("Indicator targets changed"),
    "indicator_deleted": _("Indicator deleted"),
    "donor_report_requested": _("Donor report requested"),
    "donor_report_generated": _("Donor report written"),
    "donor_report_downloaded": _("Donor report downloaded"),
    "committee_named": _("Selection committee named"),
    "committee_declaration": _("Committee member's declaration of interests"),
    "committee_scored": _("Scored by a committee member"),
    "ranked_list_approved": _("Ranked list approved"),
    "reserve_offered": _("Offered money freed in the call (reserve list)"),
    "reserve_offer_accepted": _("Reserve offer accepted"),
    "reserve_offer_declined": _("Reserve offer declined"),
    "selection_minutes_printed": _("Committee minutes printed"),
    "audit_chain_migrated": _("Audit trail upgraded"),
    "duplicate_check": _("Checked for possible duplicates"),
    "attendance_recorded": _("Attendance recorded"),
    "reassigned": _("Reassigned to another field officer"),
    "case_transfer_requested": _("Transfer to another centre requested"),
    "case_transferred": _("Case moved to another centre"),
    "case_transfer_declined": _("Transfer to another centre declined"),
    "referral_recorded": _("Referring organisation recorded"),
    "programme_scope_changed": _("Staff member narrowed to programmes or donors"),
    "referral_partner_changed": _("Referring organisation's members changed"),
    "household_override": _("Second grant in the household allowed"),
    "member_added": _("Cooperative member added"),
    "member_removed": _("Cooperative member removed"),
    "members_changed": _("Cooperative members changed"),
    "cooperative_changed": _("Cooperative details changed"),
    "complaint_received": _("Complaint received"),
    "complaint_acknowledged": _("Complaint acknowledged"),
    "complaint_note_added": _("Note added to a complaint"),
    "complaint_resolved": _("Complaint resolved"),
    "complaint_escalated": _("Overdue complaint escalated"),
    "complaint_attachment_downloaded": _("Complaint file opened"),
    "complaints_anonymised": _("Complaints anonymised"),
}


def actor_name(event):
    actor = event.actor
    if actor is not None:
        return actor.get_full_name() or actor.username
    return event.actor_name or str(_("the system"))


def actor_without_names(event, party_user_ids):
    """For roles that do not read names: staff by their username, the applicant or a
    cooperative member (`party_user_ids`, their accounts) as "the applicant"."""
    if event.actor_id is not None and event.actor_id in party_user_ids:
        return str(_("the applicant"))
    return event.actor_username or str(_("the system"))


def for_applicant(events, applicant_user_id):
    """[{"at", "text", "comment"}] for the person whose application it is. Access
    records (who opened what) stay in the staff history."""
    lines = []
    for event in events:
        name = {"actor": actor_name(event)}
        if event.action in _PERSONAL:
            yours, on_behalf, staff = _PERSONAL[event.action]
            if event.actor_id is not None and event.actor_id == applicant_user_id:
                text = str(yours)
            elif event.on_behalf_of_id is not None:
                text = str(on_behalf) % name
            else:
                text = str(staff) % name
        elif event.action in _BY_STAFF:
            text = str(_BY_STAFF[event.action]) % name
        else:
            continue
        lines.append(
            {
                "at": event.at,
                "text": text,
                "comment": event.comment if event.action in _COMMENT_SHOWN else "",
            }
        )
    return lines


def label(action):
    # An event written by an older release may name an action no longer written.
    return ACTION_LABELS.get(action, action.replace("_", " "))
