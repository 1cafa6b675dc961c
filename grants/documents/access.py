"""Who may upload, download and remove which documents."""

from django.utils.translation import gettext as _

from applicants import roles
from applicants.sensitivity import sensitive_access
from core.decisions import ALLOWED, Decision

from .. import permissions
from ..models import Document, DocumentKind
from .kinds import APPLICANT_KINDS, CLOSED_STATES, PROTOCOL_LOCKED_STATES, SENSITIVE_KINDS


def can_upload(user, application, kind):
    seen = permissions.can_view_application(user, application)
    if not seen:
        return seen
    if not roles.is_staff_member(user) and permissions.is_own(user, application):
        if kind not in APPLICANT_KINDS:
            return Decision(False, _("This kind of document is uploaded by staff."))
        if application.state in CLOSED_STATES:
            return Decision(False, _("This application is closed."))
        return ALLOWED
    if not user.has_perm("grants.add_document"):
        return Decision(False, _("Your role cannot upload documents."))
    if permissions.is_party(user, application):
        return Decision(False, _("You cannot act on your own application."))
    if kind in SENSITIVE_KINDS:
        allowed, reason = sensitive_access(user, application.applicant)
        if not allowed:
            return Decision(False, reason)
    return ALLOWED


def can_download(user, document):
    return permissions.can_view_document(user, document)


def can_delete(user, document):
    """The uploader takes back their own upload, and the centre's field officers tidy
    up any, while the application is open; delivery evidence always stays."""
    application = document.application
    seen = can_download(user, document)
    if not seen:
        return seen
    if document.kind == DocumentKind.HANDOVER_PROTOCOL and application.state in PROTOCOL_LOCKED_STATES:
        return Decision(False, _("The signed handover protocol of a delivery stays on file."))
    if document.kind == DocumentKind.SIGNED_CONTRACT:
        return Decision(False, _("The signed grant contract stays on file."))
    if application.state in CLOSED_STATES:
        return Decision(False, _("This application is closed; its documents stay on file."))
    may_upload = can_upload(user, application, document.kind)
    if not may_upload:
        return may_upload
    if document.uploaded_by_id != user.pk and not (
        roles.is_staff_member(user) and roles.has_role(user, roles.FIELD_OFFICER)
    ):
        return Decision(False, _("You can remove only the documents you added."))
    return ALLOWED


def visible_documents(user, application):
    """The documents of an application the caller may see (the application itself
    must already be visible to them)."""
    documents = Document.objects.filter(application=application).order_by("-created_at", "-id")
    return permissions.visible_documents(user, application, documents)
