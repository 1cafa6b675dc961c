"""What the grants pages share: the application the user may open, or 404."""

from django.http import Http404

from .. import selectors


def visible_application(user, pk, **annotations):
    """One application the user may open, or 404 (never a hint that it exists); with
    the `annotations` a page asks for."""
    application = (
        selectors.applications_for(user)
        # The contract: the page's contract section and the delivery rules read it.
        .select_related("programme", "applicant", "centre", "assigned_officer", "contract")
        .annotate(**annotations)
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application
