"""The field officer's offline web app: its pages (shells that the phone keeps and fills
from the field pack in IndexedDB, static/js/field.js), its service worker and its web
manifest (docs/design.md "Offline field work")."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from applicants import roles
from applicants.roles import role_required

# The pages the phone keeps for offline use, by URL name: the officer opens them from
# the home screen without a network.
PAGES = ("field-home", "field-visit", "field-attendance", "field-register")
# The static files they need, kept by the service worker when it installs.
ASSETS = (
    "css/app.css",
    "js/app.js",
    "js/field.js",
    "img/favicon.svg",
    "img/icon-192.png",
    "img/icon-512.png",
)
SW_SOURCE = Path(__file__).resolve().parent / "sw.js"


def _page(request, template):
    return render(request, template, {"field_pages": [reverse(name) for name in PAGES]})


@role_required(roles.FIELD_OFFICER)
def home(request):
    return _page(request, "field/home.html")


@role_required(roles.FIELD_OFFICER)
def visit(request):
    return _page(request, "field/visit.html")


@role_required(roles.FIELD_OFFICER)
def attendance(request):
    return _page(request, "field/attendance.html")


@role_required(roles.FIELD_OFFICER)
def register(request):
    return _page(request, "field/register.html")


def _cache_version(urls):
    """Changes whenever the worker's code or a file it keeps changes, so that a new
    worker replaces the old cache (static URLs keep their names from one release to the
    next)."""
    digest = hashlib.sha256(SW_SOURCE.read_bytes())
    for path, url in zip(ASSETS, urls, strict=True):
        digest.update(url.encode())
        found = finders.find(path)
        if found:
            digest.update(Path(found).read_bytes())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request):
    """Served at the site root so that its scope is the whole site (it only answers for
    /field/ pages and static files); same origin, no inline code, no CDN."""
    assets = [static(path) for path in ASSETS]
    head = (
        f"const CACHE = {_js_string('field-' + _cache_version(assets))};\n"
        f"const ASSETS = [{', '.join(_js_string(a) for a in assets)}];\n"
        f"const PAGES = [{', '.join(_js_string(reverse(n)) for n in PAGES)}];\n"
        f"const STATIC_PREFIX = {_js_string(settings.STATIC_URL if settings.STATIC_URL.startswith('/') else '/' + settings.STATIC_URL)};\n"
    )
    response = HttpResponse(head + SW_SOURCE.read_text(), content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


def _js_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@require_GET
def manifest(request):
    body = {
        "name": _("Micro-enterprise grants: field work"),
        "short_name": _("Field work"),
        "start_url": reverse("field-home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b5394",
        "icons": [
            {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json")
