"""What every web page shares, whatever its app: pages of 50, a safe `next` address, and
a service's refusal as sentences for the page."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZE = 50


def paginate(request, queryset, per_page=PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


@dataclass
class UncountedPage:
    rows: list
    number: int
    has_next: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def has_other_pages(self):
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self):
        return self.number - 1

    @property
    def next_page_number(self):
        return self.number + 1


def page_number(request):
    """The `page` asked for, 1 for anything that is not a page number."""
    try:
        return max(1, int(request.GET.get("page", 1)))
    except (TypeError, ValueError):
        return 1


def paginate_uncounted(request, queryset, per_page=PAGE_SIZE):
    """A page of a list too long to count on every request (the audit trail: a million
    events): its rows and whether a next page exists, in one query, no COUNT."""
    number = page_number(request)
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1])
    return UncountedPage(rows[:per_page], number, has_next=len(rows) > per_page)


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
