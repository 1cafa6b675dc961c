"""What the web views share: role gates, fetching an object the user may see, pages of
50, and turning a service's refusal into a message on the page."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from applicants import roles

from .. import selectors
from ..errors import NotVisible

PAGE_SIZE = 50


def role_required(*allowed):
    """The page is for these roles; anyone else signed in gets 403 with the reason."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(roles.has_role(request.user, role) for role in allowed):
                raise PermissionDenied(_("This page is not available to your role."))
            try:
                return view(request, *args, **kwargs)
            except NotVisible:
                raise Http404 from None

        return login_required(wrapped)

    return decorator


def visible_application(user, pk, **annotations):
    """One application the user may open, or 404 (never a hint that it exists); with
    the `annotations` a page asks for."""
    application = (
        selectors.applications_for(user)
        .select_related("programme", "applicant", "centre", "assigned_officer")
        .annotate(**annotations)
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


def deny(decision):
    """Turn a refused Decision into the answer: 404 when not visible, else 403 with the reason."""
    if decision.allowed:
        return
    if not decision.visible:
        raise Http404
    raise PermissionDenied(str(decision.reason))


def paginate(request, queryset, per_page=PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def safe_next(request, default):
    target = request.POST.get("next") or request.GET.get("next")
    # A path of this site only: a bare word would be taken for a view's name by redirect().
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


def error_messages(exc):
    """The sentences a service error carries, for the page."""
    rules = getattr(exc, "rules", None)
    if rules:
        return [str(message) for _code, message in rules]
    return [str(exc.message)]
