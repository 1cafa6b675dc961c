"""English, Serbian (Latin) and Albanian: the catalogues are complete and compiled, and
every page the demo users can reach renders in each language with no untranslated string.
"""

import ast
import gettext
import re
import shutil
import subprocess
from collections import Counter, deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone, translation

from applicants import roles
from applicants.role_setup import sync_role_groups
from demo.seed import seed

LOCALES = {"sr-latn": "sr_Latn", "sq": "sq"}
LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|\{\w*\}")


@pytest.fixture(autouse=True)
def _language_restored():
    """The test client's requests activate their language in this thread and leave it
    active; later tests must not inherit Albanian."""
    with translation.override(translation.get_language()):
        yield


# ---- the catalogues ------------------------------------------------------------------


class Entry:
    def __init__(self):
        self.flags = set()
        self.msgctxt = None
        self.msgid = ""
        self.msgid_plural = None
        self.msgstr = {}
        self.obsolete = False
        self.line = 0

    @property
    def key(self):
        return (self.msgctxt + "\x04" if self.msgctxt is not None else "") + self.msgid

    @property
    def translations(self):
        return [self.msgstr[i] for i in sorted(self.msgstr)]


def read_po(path):
    """The entries of a .po file (enough of the format for what makemessages writes)."""
    entries, entry, field = [], Entry(), None

    def finish():
        nonlocal entry, field
        if entry.msgstr or entry.msgid:
            entries.append(entry)
        entry, field = Entry(), None

    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if not line:
                continue
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            if entry.msgstr:
                finish()
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            if entry.msgstr:
                finish()
            continue
        keyword, _space, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = None, line
        elif keyword in ("msgctxt", "msgid") and entry.msgstr:
            finish()
        if keyword is not None:
            entry.line = entry.line or number
            field = keyword
        value = ast.literal_eval(rest)
        if field == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + value
        elif field == "msgid":
            entry.msgid += value
        elif field == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        elif field == "msgstr":
            entry.msgstr[0] = entry.msgstr.get(0, "") + value
        elif field.startswith("msgstr["):
            index = int(field[7:-1])
            entry.msgstr[index] = entry.msgstr.get(index, "") + value
    finish()
    return [e for e in entries if not e.obsolete]


def po_path(locale):
    return LOCALE_DIR / locale / "LC_MESSAGES" / "django.po"


def messages(locale):
    return [e for e in read_po(po_path(locale)) if e.msgid]


@pytest.mark.parametrize("locale", LOCALES.values())
def test_every_message_is_translated(locale):
    entries = messages(locale)
    assert len(entries) > 300
    empty = [e.msgid for e in entries if not all(e.translations) or not e.translations]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert empty == [], f"{len(empty)} untranslated in {locale}: run `make messages` and translate"
    assert fuzzy == [], f"{len(fuzzy)} fuzzy in {locale}: check the translation, remove the flag"


@pytest.mark.parametrize("locale", LOCALES.values())
def test_the_header_names_the_language_and_is_not_fuzzy(locale):
    header = next(e for e in read_po(po_path(locale)) if not e.msgid)
    assert "fuzzy" not in header.flags
    assert f"Language: {locale}\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


@pytest.mark.parametrize("locale", LOCALES.values())
def test_translations_keep_every_placeholder(locale):
    wrong = []
    for e in messages(locale):
        expected = Counter(PLACEHOLDER.findall(e.msgid))
        for text in e.translations:
            if Counter(PLACEHOLDER.findall(text)) != expected and (
                e.msgid_plural is None
                or Counter(PLACEHOLDER.findall(text)) != Counter(PLACEHOLDER.findall(e.msgid_plural))
            ):
                wrong.append((e.msgid, text))
    assert wrong == []


@pytest.mark.parametrize("locale", LOCALES.values())
def test_the_compiled_catalogue_is_up_to_date(locale, tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "gettext is needed (apt-get install gettext): .ci/run installs it"
    fresh = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check-format", "-o", str(fresh), str(po_path(locale))], check=True)
    committed = po_path(locale).with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run `make messages` and commit it"
    with fresh.open("rb") as a, committed.open("rb") as b:
        expected, actual = gettext.GNUTranslations(a)._catalog, gettext.GNUTranslations(b)._catalog
    stale = sorted(str(k) for k in set(expected) ^ set(actual)) + sorted(
        str(k) for k in set(expected) & set(actual) if expected[k] != actual[k]
    )
    assert stale == [], f"{committed} is older than its .po: run `make messages` and commit it"


def audit_actions_written():
    """Every action the code writes to the audit trail: the literal `action=` of each
    `record(...)` call in the project's packages, and the transitions (written by name)."""
    from grants import transitions

    # Written under a name made at run time: the programme's admin inlines, and the
    # upgrade of the chain (a migration, which the scan leaves out).
    actions = set(transitions.NAMES) | {"programme_rubriccriterion_changed", "audit_chain_migrated"}
    for package in ("applicants", "assessments", "complaints", "config", "grants"):
        for path in (Path(settings.BASE_DIR) / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "record"):
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "action" and isinstance(keyword.value, ast.Constant):
                        actions.add(keyword.value.value)
            # `action = "a" if ... else "b"` before a record(action=action, ...)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [
                    "action"
                ]:
                    actions |= {
                        c.value
                        for c in ast.walk(node.value)
                        if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    }
    return actions


def test_the_scan_finds_the_audit_actions():
    actions = audit_actions_written()
    assert {"approve", "document_lost", "handover_protocol_printed", "sensitive_viewed"} <= actions


@pytest.mark.parametrize("language", ["en", *LOCALES])
def test_every_audit_action_has_a_label_in_every_language(language):
    from grants.views import timeline

    missing = sorted(audit_actions_written() - set(timeline.ACTION_LABELS))
    assert missing == [], f"audit actions without a label in grants/views/timeline.py: {missing}"
    if language == "en":
        return
    with translation.override(language):
        untranslated = sorted(
            action for action, label in timeline.ACTION_LABELS.items() if str(label) == _english(label)
        )
    assert untranslated == [], f"history labels not translated into {language}: {untranslated}"


def _english(label):
    with translation.override("en"):
        return str(label)


def test_django_uses_the_catalogues():
    with translation.override("sr-latn"):
        assert translation.gettext("Draft") == "Nacrt"
    with translation.override("sq"):
        assert translation.gettext("Draft") == "Skicë"
    with translation.override("en"):
        assert translation.gettext("Draft") == "Draft"


# ---- every page in every language ------------------------------------------------------

SKIP_PREFIXES = ("/admin/", "/api/", "/i18n/", "/static/", "/accounts/logout/", "/healthz")
SKIP_PARTS = ("/documents/", "download", "export", ".csv", ".xlsx", ".pdf", "certificate", "protocol")
# Pages of one shape (/applications/N/) look alike: one sample each, a few query variants
# per path. Application pages in every state are added to the start explicitly.
VARIANTS_PER_PATH = 2
MAX_PAGES = 60
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
TEXT_ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")


class PageText(HTMLParser):
    """Visible text and labelling attributes, each piece on its own, plus the links.
    Text inside an element marked with another `lang` (the language switcher) is left out."""

    def __init__(self, language):
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack = []
        self.pieces = []
        self.links = []
        self.html_lang = None

    def _foreign(self):
        for _tag, lang in reversed(self.stack):
            if lang is not None:
                return lang.lower() != self.language
        return False

    def _skipped(self):
        return any(tag in ("script", "style") for tag, _lang in self.stack) or self._foreign()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag not in VOID:
            self.stack.append((tag, attrs.get("lang") if tag != "html" else None))
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if self._skipped() or (tag in VOID and attrs.get("lang", self.language).lower() != self.language):
            return
        for name in TEXT_ATTRIBUTES:
            if attrs.get(name):
                self.pieces.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.pieces.append(attrs["value"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skipped():
            self.pieces.append(text)


def page_text(html, language):
    parser = PageText(language)
    parser.feed(html)
    parser.close()
    return parser


def _pattern(msgid):
    """A regex for the msgid as it would appear rendered: placeholders match anything."""
    literals = PLACEHOLDER.split(msgid)
    body = ".+?".join(r"\s+".join(re.escape(word) for word in literal.split()) for literal in literals)
    start = r"(?<!\w)" if re.match(r"\w", msgid) else ""
    end = r"(?!\w)" if re.search(r"\w$", msgid) else ""
    return re.compile(start + body + end)


class Catalogue:
    """The msgids whose translation differs from the English text, ready for matching."""

    def __init__(self, locale):
        entries = [e for e in messages(locale) if e.msgctxt is None]
        translated = {text for e in entries for text in e.translations}
        self.short, self.long = set(), []
        for e in entries:
            if e.msgid in e.translations or e.msgid in translated:
                continue  # the same word in both languages (or another string's translation)
            literal = PLACEHOLDER.sub("", e.msgid).strip()
            if not re.search(r"[A-Za-z]{2}", literal):
                continue
            if " " in literal and len(literal) >= 12:
                self.long.append((e.msgid, _pattern(e.msgid)))
            else:
                self.short.add(e.msgid)

    def untranslated(self, pieces):
        found = set()
        for piece in pieces:
            bare = piece.strip(" :*•·–—|()")
            if bare in self.short:
                found.add(bare)
            for msgid, pattern in self.long:
                if pattern.search(piece):
                    found.add(msgid)
        return found


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, seeded once for the module and rolled back at its end (its files in
    a temporary folder, never in the checkout's media/)."""
    media = tmp_path_factory.mktemp("demo-media")
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}}
    with override_settings(STORAGES={**settings.STORAGES, "default": storage}, MEDIA_ROOT=str(media)):
        with django_db_blocker.unblock():
            with transaction.atomic():
                # A reused database after transactional tests has lost the migrations'
                # role groups (they flush); the demo needs them.
                sync_role_groups(django_apps)
                seed()
                yield
                transaction.set_rollback(True)


def demo_usernames():
    return [
        "anonymous",
        "applicant",
        "applicant2",
        "officer",
        "officer2",
        "officer3",
        "manager",
        "finance",
        "auditor",
    ]


def internal(url, base):
    absolute = urljoin(base, url)
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path
    if path.startswith(SKIP_PREFIXES) or any(part in path for part in SKIP_PARTS):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def url_shape(url):
    path, _sep, query = url.partition("?")
    keys = sorted({re.sub(r"\W", "", pair.split("=")[0]) for pair in query.split("&") if pair})
    return re.sub(r"\d+", "N", path), tuple(keys)


def start_pages(user):
    """Home, and one application page per state the user can see (the pages differ by state)."""
    from grants.selectors import applications_for

    if user is None:
        return [reverse("login"), reverse("signup")]
    pages = ["/"]
    if not roles.is_staff_member(user):
        return pages
    seen = set()
    for pk, state in applications_for(user).order_by("pk").values_list("pk", "state"):
        if state not in seen:
            seen.add(state)
            pages.append(reverse("application-detail", args=[pk]))
    return pages


def visit(client, language, url):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


def check_pages(client, start, catalogues):
    """Follow the links from `start` (GET only, this site only), rendering every page in
    Serbian and Albanian; returns the pages seen and the untranslated strings found."""
    first, *others = catalogues
    queue, seen, pages, problems = deque(start), set(start), [], []
    shapes, variants = set(), Counter()
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        response = visit(client, first, url)
        if response.status_code in (301, 302, 303) and (target := internal(response["Location"], url)):
            if target not in seen:
                seen.add(target)
                queue.appendleft(target)
            continue
        assert response.status_code < 500, f"{url} answered {response.status_code}"
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        pages.append(url)
        for language in catalogues:
            if language != first:
                response = visit(client, language, url)
                assert response.status_code == 200, f"{url} in {language}: {response.status_code}"
            text = page_text(response.content.decode(), language)
            assert text.html_lang == language, f"{url} did not switch to {language}"
            problems += [
                f"{language} {url}: {m!r}" for m in sorted(catalogues[language].untranslated(text.pieces))
            ]
            if language == first:
                links = text.links
        for href in links:
            target = internal(href, url)
            if target is None or target in seen:
                continue
            seen.add(target)
            shape = url_shape(target)
            if shape in shapes or variants[shape[0]] >= VARIANTS_PER_PATH:
                continue
            shapes.add(shape)
            variants[shape[0]] += 1
            queue.append(target)
    return pages, problems


@pytest.fixture(scope="module")
def catalogues():
    return {language: Catalogue(locale) for language, locale in LOCALES.items()}


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize("username", demo_usernames())
def test_every_page_renders_in_every_language(username, demo_site, client, catalogues):
    """What the demo users reach by following links, in sr-latn and sq: no msgid of the
    catalogue shows up untranslated (the acceptance criterion of issue 7)."""
    from .conftest import verified_login

    user = None
    if username != "anonymous":
        user = get_user_model().objects.get(username=username)
        verified_login(client, user)
    pages, problems = check_pages(client, start_pages(user), catalogues)
    print(f"{username}: {len(pages)} pages in {', '.join(catalogues)}")
    assert len(pages) >= 2, f"{username} reached only {pages}"
    assert problems == [], "untranslated strings:\n" + "\n".join(problems)


# ---- the checker itself, and what the languages change besides words ------------------


def test_the_check_finds_an_untranslated_string_and_spares_marked_languages(catalogues):
    html = (
        '<html lang="sq"><body><header><button lang="en">English</button></header>'
        "<main><h1>Aplikimet</h1><th>Business</th><td>Submitted</td><p>Ende nuk ka aplikime.</p>"
        "<p>Your application “Pekara”: Submitted</p>"
        '<input type="submit" value="Save"><script>var x = "Draft";</script></main></body></html>'
    )
    text = page_text(html, "sq")
    assert text.html_lang == "sq"
    found = catalogues["sq"].untranslated(text.pieces)
    assert found == {"Business", "Save", "Submitted", "Your application “%(name)s”: %(state)s"}


@pytest.mark.django_db
def test_amounts_and_dates_follow_the_language(demo_site, client):
    """The demo applicant's page: its requested total written 1,234.50 / 1.234,50 /
    1234,50, and the timeline's date and time in the language's format."""
    from django.utils import formats

    from grants.models import AuditEvent

    from .conftest import verified_login

    user = get_user_model().objects.get(username="applicant")
    event = (
        AuditEvent.objects.filter(application__applicant__user=user, application__items__isnull=False)
        .select_related("application")
        .latest("at")
    )
    total = event.application.requested_total
    assert total >= 1000, "the sample needs a thousands separator"
    english = f"{total:,.2f}"
    expected = {
        "en": english,
        "sr-latn": english.replace(",", " ").replace(".", ",").replace(" ", "."),
        "sq": f"{total:.2f}".replace(".", ","),
    }
    verified_login(client, user)
    url = reverse("application-detail", args=[event.application_id])
    for language, amount in expected.items():
        html = visit(client, language, url).content.decode()
        with translation.override(language):
            when = formats.date_format(timezone.localtime(event.at), "SHORT_DATETIME_FORMAT")
        assert amount in html, (language, amount)
        assert when in html, (language, when)


TEMPLATE_COMMENT = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
TEMPLATE_BLOCKTRANS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
TEMPLATE_TAG = re.compile(r"{%.*?%}|{{.*?}}", re.S)
HTML_CODE = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
HTML_TAG = re.compile(r"<[^>]*>", re.S)
LABEL_ATTRIBUTE = re.compile(r'\b(title|alt|placeholder|aria-label)="([^"]*)"')
NOT_WORDS = {"EUR", "PDF", "CSV", "XLSX"}


def template_files():
    roots = [Path(settings.BASE_DIR) / "templates"]
    roots += [Path(settings.BASE_DIR) / app / "templates" for app in ("applicants", "grants", "assessments")]
    return sorted(
        p for root in roots if root.exists() for p in root.rglob("*") if p.suffix in (".html", ".txt")
    )


def words_outside_translation(source):
    """Words a template shows without {% translate %} / {% blocktranslate %}."""
    source = HTML_CODE.sub(" ", TEMPLATE_BLOCKTRANS.sub(" ", TEMPLATE_COMMENT.sub(" ", source)))
    found = []
    for tag in HTML_TAG.findall(source):
        for name, value in LABEL_ATTRIBUTE.findall(TEMPLATE_TAG.sub(" ", tag)):
            if any(w not in NOT_WORDS for w in re.findall(r"[A-Za-z]{2,}", value)):
                found.append(f'{name}="{value}"')
    body = re.sub(r"&#?\w+;", " ", TEMPLATE_TAG.sub(" ", HTML_TAG.sub(" ", source)))
    found += [w for w in re.findall(r"\S*[A-Za-z]{2,}\S*", body) if w.strip(".,:;()") not in NOT_WORDS]
    return found


def test_templates_have_no_text_outside_translation_tags():
    assert words_outside_translation('<p title="Help">{% translate "Yes" %} Total: {{ x }}</p>') == [
        'title="Help"',
        "Total:",
    ]
    untranslated = {}
    for path in template_files():
        words = words_outside_translation(path.read_text(encoding="utf-8"))
        if words:
            untranslated[str(path.relative_to(settings.BASE_DIR))] = words
    assert untranslated == {}
