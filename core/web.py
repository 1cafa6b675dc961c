"""What every web page shares, whatever its app: pages of 50, a safe `next` address, and
a service's refusal as sentences for the page."""

from django.core.paginator import Paginator
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZE = 50


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
