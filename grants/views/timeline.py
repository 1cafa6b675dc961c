"""The audit trail told in plain words: what the applicant reads as their timeline, and
the labels staff read in the history table."""

from django.utils.translation import gettext_lazy as _

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
_COMMENT_SHOWN = {"return_for_changes", "reject", "cancel", "discontinue"}

ACTION_LABELS = {
    "create": _("Created"),
    "edit": _("Edited"),
    "submit": _("Submitted"),
    "return_for_changes": _("Returned for changes"),
    "admit_to_training": _("Admitted to training"),
    "approve": _("Approved"),
    "reject": _("Rejected"),
    "withdraw": _("Withdrawn"),
    "cancel": _("Cancelled"),
    "record_delivery": _("Equipment delivered"),
    "start_follow_up": _("Follow-up started"),
    "complete": _("Completed"),
    "discontinue": _("Discontinued"),
    "enrolled": _("Enrolled in training"),
    "assessed": _("Assessed"),
    "delivery": _("Delivery recorded"),
    "visit_recorded": _("Visit recorded"),
    "document_uploaded": _("Document uploaded"),
    "document_downloaded": _("Document opened"),
    "document_deleted": _("Document deleted"),
    "sensitive_viewed": _("Sensitive facts viewed"),
    "attendance_recorded": _("Attendance recorded"),
    "reassigned": _("Reassigned to another field officer"),
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
    return ACTION_LABELS.get(action, action.replace("_", " "))
