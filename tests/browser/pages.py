"""Which pages the demo users reach, found on the server side (Django's test client, fast)
so the browser only opens each page once per viewport: the user's home, one application
page per state the user can see, and what their links lead to (GET only, this site only),
one sample per address shape (/applications/N/ once, not for every N)."""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.test import Client
from django.urls import reverse

from applicants import roles

from ..conftest import verified_login

SKIP_PREFIXES = ("/admin/", "/api/", "/i18n/", "/static/", "/accounts/logout/", "/healthz")
SKIP_PARTS = ("/documents/", "download", "export", ".csv", ".xlsx", ".pdf", ".zip", "certificate", "protocol")
MAX_PAGES = 45


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and (href := dict(attrs).get("href")):
            self.hrefs.append(href)


def internal(url, base):
    parts = urlsplit(urljoin(base, url))
    if parts.scheme not in ("http", "") or parts.netloc not in ("", "testserver"):
        return None
    if parts.path.startswith(SKIP_PREFIXES) or any(part in parts.path for part in SKIP_PARTS):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def shape(url):
    """/applications/12/?page=2 and /applications/7/ are one shape: the path with its
    numbers blanked; a query string (filters, pages) is a variant of its page, not a page."""
    return re.sub(r"\d+", "N", url.partition("?")[0])


def start_pages(user, states=None):
    """Home, and an application page for each state the user can see (or each of `states`)."""
    from grants.selectors import applications_for

    if user is None:
        return [reverse("login"), reverse("signup")]
    pages = ["/"]
    if roles.is_staff_member(user):
        seen = set()
        for pk, state in applications_for(user).order_by("pk").values_list("pk", "state"):
            if state not in seen and (states is None or state in states):
                seen.add(state)
                pages.append(reverse("application-detail", args=[pk]))
    if roles.has_role(user, roles.FIELD_OFFICER):
        # The offline field pages link to each other only from script (field.js).
        pages += [
            reverse(name) for name in ("field-home", "field-visit", "field-attendance", "field-register")
        ]
    return pages


def client_for(user):
    client = Client()
    client.cookies["django_language"] = "en"
    if user is not None:
        verified_login(client, user)
    return client


def reachable(user, *, states=None, limit=MAX_PAGES):
    """Every page `user` reaches from their start pages, one per shape, at most `limit`;
    application pages in each state (or each of `states`) are kept beside each other:
    they differ by state."""
    client = client_for(user)
    start = start_pages(user, states)
    queue, seen, pages = deque(start), set(start), []
    shapes = {shape(url) for url in start if "/applications/" not in url}
    while queue and len(pages) < limit:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            target = internal(response["Location"], url)
            if target and target not in seen:
                seen.add(target)
                queue.appendleft(target)
            continue
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        pages.append(url)
        parser = Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            target = internal(href, url)
            if target is None or target in seen or shape(target) in shapes:
                continue
            seen.add(target)
            shapes.add(shape(target))
            queue.append(target)
    return pages
