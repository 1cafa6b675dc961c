"""Issue 13's acceptance: a scan of every response finance and the auditor can reach, API
and web, pages, PDFs and CSV/XLSX exports, error answers included, over the demo data,
finds no person's name together with a label that reveals prison or return.

The responses are found the way the permission matrix finds URLs: every URL pattern the
project serves (the same allowlist), each filled with every id of the kind it takes and
each export format, the reports with every breakdown and target group; then the pages
reached by following links from the home page. A URL pattern that answers GET and was
not requested fails the scan, so a new page or endpoint is scanned without anyone
adding it here.

Revealing labels: every programme's name (the demo's say "after release" and
"returnees"), the names of prison social services, the target groups "former inmate"
and "returnee" and the release and return certificates (codes and labels in English,
Serbian and Albanian), and the sensitive facts recorded (referral institutions,
countries returned from). Names: every applicant's first and last name together.
"""

import html
import io
import re
import zipfile
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from rest_framework.test import APIClient
from rest_framework.views import APIView

from applicants.models import Applicant, ApplicantSensitive, DuplicateFlag, IntegrationCentre, TargetGroup
from applicants.role_setup import sync_role_groups
from assessments.models import MonitoringVisit, TrainingCohort
from complaints.models import Complaint, ComplaintAttachment
from demo.seed import seed
from grants.models import (
    Delivery,
    Document,
    DocumentKind,
    GrantApplication,
    Programme,
    PurchaseOrder,
    Supplier,
)
from reports import figures as reports

from .conftest import verified_login
from .test_permission_matrix import ALLOWLIST_PREFIXES, url_patterns

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

LANGUAGES = ("en", "sr-latn", "sq")
REVEALING_GROUPS = (TargetGroup.FORMER_INMATE, TargetGroup.RETURNEE)
REVEALING_KINDS = ("release_certificate", "return_certificate")
# Web views that only take POST: nothing to read.
POST_ONLY = {
    "logout",
    "application-step",
    "application-reassign",
    "document-upload",
    "cohort-attendance",
    "cohort-enrol",
    "application-enrol",
    "duplicate-decide",
    "procurement-supplier-vet",
    "procurement-supplier-conflict",
    "procurement-order-create",
    "procurement-quote-choose",
    "procurement-order-approve",
    "application-household-override",
    "application-cooperative",
    "application-member-add",
    "application-member-remove",
    "complaint-acknowledge",
    "complaint-note",
    "complaint-resolve",
}
# What each URL's `pk` names, by the URL's name (the first match wins); anything else
# is an application.
PK_KINDS = (
    ("complaint-attachment", ComplaintAttachment),
    ("complaint", Complaint),
    ("document", Document),
    ("visit", MonitoringVisit),
    ("cohort", TrainingCohort),
    ("duplicate", DuplicateFlag),
    ("applicant", Applicant),
    ("supplier", Supplier),
    ("order", PurchaseOrder),
)
MAX_CRAWLED = 250


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, seeded once for the module and rolled back at its end."""
    media = tmp_path_factory.mktemp("scan-media")
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}}
    with override_settings(
        STORAGES={**settings.STORAGES, "default": storage}, MEDIA_ROOT=str(media), STORAGE_BACKEND="local"
    ):
        with django_db_blocker.unblock(), transaction.atomic():
            sync_role_groups(django_apps)
            seed()
            yield media
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _demo_storage(settings, demo):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(demo)},
        },
    }
    settings.MEDIA_ROOT = str(demo)


def revealing_labels():
    labels = set(Programme.objects.values_list("name", flat=True))
    labels |= set(
        IntegrationCentre.objects.filter(kind=IntegrationCentre.Kind.PRISON_SERVICE).values_list(
            "name", flat=True
        )
    )
    labels |= {group.value for group in REVEALING_GROUPS} | set(REVEALING_KINDS)
    for language in LANGUAGES:
        with translation.override(language):
            labels |= {str(group.label) for group in REVEALING_GROUPS}
            labels |= {str(DocumentKind(kind).label) for kind in REVEALING_KINDS}
    for referral, other, returned_from in ApplicantSensitive.objects.values_list(
        "referral__name", "referral_other", "returned_from"
    ):
        labels |= {value for value in (referral, other, returned_from) if value}
    return sorted(labels)


def person_names():
    return sorted(
        {f"{first} {last}" for first, last in Applicant.objects.values_list("first_name", "last_name")}
    )


def text_of(response):
    """What a person reads in the response: the page's text (entities decoded), a PDF's
    text, a spreadsheet's cells."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/pdf"):
        try:
            return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)
        except PdfReadError:  # (the demo's uploads are a few bytes of PDF): its bytes as text
            return raw.decode("latin-1")
    if raw[:2] == b"PK" and "sheet" in content_type:
        sheets = load_workbook(io.BytesIO(raw), read_only=True).worksheets
        return "\n".join(
            " | ".join("" if cell is None else str(cell) for cell in row)
            for sheet in sheets
            for row in sheet.iter_rows(values_only=True)
        )
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return html.unescape(raw.decode("utf-8", errors="replace"))


class Scan:
    """Requests as one user (API and browser), each response checked for a name beside
    a revealing label."""

    def __init__(self, username):
        self.user = get_user_model().objects.get(username=username)
        self.api = APIClient()
        self.api.force_authenticate(self.user)
        self.web = verified_login(Client(), self.user)
        self.names, self.labels = person_names(), revealing_labels()
        self.seen, self.view_names, self.pairs, self.kinds = set(), set(), [], set()
        self.with_names = []

    def get(self, url):
        if url in self.seen:
            return None
        self.seen.add(url)
        path = urlsplit(url).path
        try:
            self.view_names.add(resolve(path).view_name)
        except Resolver404:
            pass
        response = (self.api if path.startswith("/api/") else self.web).get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        self.check(url, response)
        return response

    def check(self, url, response):
        text = text_of(response)
        self.kinds.add(response.get("Content-Type", "").split(";")[0])
        names = [name for name in self.names if name in text]
        if names:
            self.with_names.append(url)
        labels = [label for label in self.labels if label in text]
        if names and labels:
            self.pairs.append(f"{url}: {names[:3]} with {labels[:3]}")


def pattern_urls():
    """Every URL of every GET-able pattern, filled with every id of its kind."""
    ids = {model: list(model.objects.values_list("pk", flat=True)) for _name, model in PK_KINDS}
    application_ids = list(GrantApplication.objects.values_list("pk", flat=True))
    kwargs_of = pattern_kwargs()
    for name, view in url_patterns():
        if name.startswith(ALLOWLIST_PREFIXES) or name in POST_ONLY:
            continue
        view_class = getattr(view, "cls", None)
        if view_class is not None and issubclass(view_class, APIView) and not hasattr(view_class, "get"):
            continue
        pattern = kwargs_of[name]
        if "name" in pattern:  # a transition: POST only
            continue
        if "delivery" in pattern:  # one delivery's handover protocol: every delivery
            for application_id, delivery_id in Delivery.objects.values_list("application_id", "pk"):
                yield name, reverse(name, kwargs={"pk": application_id, "delivery": delivery_id})
            continue
        pks = [None]
        if "pk" in pattern:
            model = next((m for part, m in PK_KINDS if part in name), None)
            pks = ids[model] if model is not None else application_ids
        for pk in pks:
            for fmt in ("csv", "xlsx") if "fmt" in pattern else (None,):
                kwargs = {key: value for key, value in (("pk", pk), ("fmt", fmt)) if value is not None}
                url = reverse(name, kwargs=kwargs)
                yield name, url
                if name.startswith("api:report-impact") or name == "dashboard":
                    for by in reports.BREAKDOWNS:
                        yield name, f"{url}?by={by}"
                    for group in REVEALING_GROUPS:
                        yield name, f"{url}?by=centre&target_group={group.value}"


def pattern_kwargs():
    """{url name: the keyword arguments it takes}, for every URL the project serves."""

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}{pattern.name or pattern.pattern}", set(pattern.pattern.converters)

    return dict(walk(get_resolver().url_patterns))


def crawl(scan):
    """Follow the links from the home page (GET, this site only) for the pages the
    patterns do not say: pagination, filters, redirects."""
    queue = deque(["/"])
    crawled = 0
    while queue and crawled < MAX_CRAWLED:
        url = queue.popleft()
        response = scan.get(url)
        if response is None:
            continue
        crawled += 1
        if response.status_code in (301, 302) and (target := _internal(response["Location"], url)):
            queue.appendleft(target)
            continue
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        for href in _links(response.content.decode()):
            target = _internal(href, url)
            if target is not None and target not in scan.seen:
                queue.append(target)


def _links(page):
    return re.findall(r'href="([^"#]+)"', page)


def _internal(href, base):
    parts = urlsplit(urljoin(base, html.unescape(href)))
    if parts.netloc not in ("", "testserver"):
        return None
    if parts.path.startswith(("/admin/", "/static/", "/i18n/", "/accounts/logout/")):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def run_scan(username):
    scan = Scan(username)
    for _name, url in pattern_urls():
        scan.get(url)
    crawl(scan)
    return scan


def getable_view_names():
    names = set()
    for name, view in url_patterns():
        if name.startswith(ALLOWLIST_PREFIXES) or name in POST_ONLY:
            continue
        view_class = getattr(view, "cls", None)
        if view_class is not None and issubclass(view_class, APIView) and not hasattr(view_class, "get"):
            continue
        if "name" in pattern_kwargs()[name]:
            continue
        names.add(name)
    return names


@pytest.mark.parametrize("username", ["finance", "auditor"])
def test_no_response_ties_a_name_to_prison_or_return(username):
    scan = run_scan(username)
    print(
        f"{username}: {len(scan.seen)} responses, {len(scan.with_names)} with a name, types {sorted(scan.kinds)}"
    )
    assert scan.pairs == [], "a name beside a revealing label:\n" + "\n".join(scan.pairs[:20])
    assert getable_view_names() - scan.view_names == set(), "URL patterns the scan did not reach"
    if username == "finance":
        # The scan reads PDFs and spreadsheets, and finds names where finance needs them
        # (the handover protocol): the absence of pairs is not a blind scan.
        assert {"application/pdf", "text/csv"} <= scan.kinds
        assert any("sheet" in kind for kind in scan.kinds)
        assert any("handover-protocol" in url for url in scan.with_names)
        assert any("contract.pdf" in url for url in scan.with_names)
        # ...and only there (docs/permissions.md: finance reads names on the protocol and
        # the grant contract only, the forms the beneficiary signs).
        signed_forms = ("handover-protocol", "contract.pdf")
        assert [url for url in scan.with_names if not any(form in url for form in signed_forms)] == []
    else:
        assert scan.with_names == []


def test_the_scan_sees_a_pair_where_one_is_allowed():
    """The programme manager reads both (their work needs it): the same scan finds the
    pair on the application page of a person registered at the prison's social service."""
    application = GrantApplication.objects.filter(centre__kind=IntegrationCentre.Kind.PRISON_SERVICE).first()
    scan = Scan("manager")
    scan.get(reverse("application-detail", args=[application.pk]))
    assert scan.pairs, "the manager's page should name the person and the centre"
