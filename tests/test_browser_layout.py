"""Every page the demo users reach, in a real browser at a phone's size (360 × 740) and a
desk's (1280 × 800), issue 17 part 8:

- nothing a person can click (link, button, field, summary) lies left or right of the
  screen, and the page does not scroll sideways;
- axe-core (bundled with axe-playwright-python, nothing downloaded) finds no critical and
  no serious violation;
- after a failed submit, the error summary is inside the first screenful.

The pages are found on the server side (tests/browser/pages.py) over the demo data, so the
browser opens each page once per size; each person's session is made on the server too,
so no one types a code. One browser for the module, one context per person and size.
A page with a problem is photographed under $ARTIFACTS_DIR/browser/layout/.
"""

import re
import time

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from applicants.role_setup import sync_role_groups
from demo.seed import seed

from .browser import fixtures
from .browser.harness import OFF_SCREEN, PHONE, artifacts_dir, slug
from .browser.pages import client_for, reachable

pytestmark = [pytest.mark.browser, pytest.mark.slow]

browser = fixtures.browser

SIZES = {"phone": PHONE, "desk": {"width": 1280, "height": 800}}
# One person of each role (officer2 sees the same pages as officer, in another centre).
USERNAMES = ["anonymous", "applicant", "officer", "manager", "finance", "auditor", "procurement", "committee"]
# The field officer's application page in every state; the others' where their part is.
STATES = {
    "manager": {"submitted", "business_training", "approved", "follow_up"},
    "finance": {"approved", "equipment_delivered", "follow_up"},
}
BLOCKING = {"critical", "serious"}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo data, committed (the live server's thread reads it from its own connection
    on PostgreSQL), each demo user's session, and the pages each reaches; emptied at the
    end as a transactional test leaves the database."""
    media = tmp_path_factory.mktemp("demo-media")
    storage = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}}
    with override_settings(
        STORAGES={**settings.STORAGES, "default": storage}, MEDIA_ROOT=str(media), AXES_ENABLED=False
    ):
        with django_db_blocker.unblock():
            sync_role_groups(django_apps)
            seed()
            users = get_user_model().objects
            visitors = {}
            for username in USERNAMES:
                user = None if username == "anonymous" else users.get(username=username)
                visitors[username] = (client_for(user).cookies, reachable(user, states=STATES.get(username)))
            try:
                yield visitors
            finally:
                call_command("flush", interactive=False, verbosity=0)
                sync_role_groups(django_apps)


@pytest.fixture(scope="module")
def site(demo):
    """The live server over the demo data. Not named live_server: pytest-django would give
    every test using that name a transactional database, emptied after each test, and the
    demo is seeded once for the module."""
    server = fixtures.start_live_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def axe():
    return Axe()


def open_as(browser, site, cookies, size):
    context = browser.new_context(
        viewport=size,
        base_url=site.url,
        locale="en-GB",
        is_mobile=size["width"] < 500,
        has_touch=size["width"] < 500,
    )
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {"name": morsel.key, "value": morsel.value, "url": site.url, "secure": bool(morsel["secure"])}
            for morsel in cookies.values()
        ]
    )
    return context


def serious(axe, page):
    results = axe.run(page).response
    out = []
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
            out.append(f"axe {violation['id']} ({violation['impact']}): {targets}")
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("username", USERNAMES)
def test_every_page_fits_the_screen_and_passes_axe(username, size, demo, browser, site, axe):
    cookies, pages = demo[username]
    assert len(pages) >= 2, f"{username} reached only {pages}"
    shots = artifacts_dir() / "layout"
    shots.mkdir(exist_ok=True)
    context = open_as(browser, site, cookies, SIZES[size])
    page = context.new_page()
    problems = []
    started = time.monotonic()
    try:
        for url in pages:
            page.goto(url)
            assert "/accounts/login/" not in page.url or username == "anonymous", (
                f"{username} signed out at {url}"
            )
            found = page.evaluate(OFF_SCREEN) + serious(axe, page)
            if found:
                problems += [f"{url}: {line}" for line in found]
                page.screenshot(path=str(shots / f"{username}-{size}-{slug(url)}.png"), full_page=True)
    finally:
        context.close()
    print(f"{username} at {size}: {len(pages)} pages in {time.monotonic() - started:.0f} s")
    assert problems == [], f"{username} at {size}:\n" + "\n".join(problems)


# A form per kind of person, found among the pages the demo users reach: (who, address
# pattern). Each is sent empty (the browser's own checks switched off, as an old phone
# might not have them) and must answer with the error summary in the first screenful.
FAILED_FORMS = [
    ("anonymous", r"^/signup/$"),
    ("officer", r"^/applicants/new/$"),
    ("officer", r"^/institutions/new/$"),
    ("officer", r"^/cohorts/new/$"),
    ("officer", r"^/meetings/new/$"),
    ("officer", r"^/applications/\d+/assessment/$"),
    ("officer", r"^/visits/\d+/record/$"),
    ("finance", r"^/applications/\d+/deliveries/new/$"),
    ("procurement", r"^/procurement/suppliers/new/$"),
]

SEND_EMPTY = """(form) => {
  form.noValidate = true;
  for (const field of form.querySelectorAll("input[type=text], input[type=number], input[type=date], input[type=email], input[type=tel], textarea")) {
    field.value = "";
  }
  for (const field of form.querySelectorAll("input[type=radio], input[type=checkbox]")) { field.checked = false; }
  const buttons = [...form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]")]
    .filter((b) => !b.hasAttribute("formnovalidate") && !b.classList.contains("secondary") && !b.classList.contains("danger"));
  buttons[buttons.length - 1].click();
}"""

# The form in <main> with the most fields: the page's own form, not the language or
# log-out buttons, nor a small side form.
MAIN_FORM = """() => {
  const forms = [...document.querySelectorAll("main form[method=post], main form[method=POST]")];
  let best = null, most = -1;
  forms.forEach((form, index) => {
    const count = form.querySelectorAll("input:not([type=hidden]), select, textarea").length;
    if (count > most) { best = index; most = count; }
  });
  return best;
}"""

IN_FIRST_SCREEN = """() => {
  const summary = document.querySelector("[data-testid=error-summary]");
  if (!summary) { return "no [data-testid=error-summary] on the page"; }
  const box = summary.getBoundingClientRect();
  // Scrolled to, its top lands on the screen's edge give or take a fraction of a pixel.
  if (box.top < -1 || box.top >= window.innerHeight) { return `the summary starts at y=${box.top.toFixed(1)}`; }
  if (!summary.contains(document.activeElement) && document.activeElement !== summary) {
    return `the focus is on ${document.activeElement.tagName.toLowerCase()}, not in the summary`;
  }
  return "";
}"""


@pytest.mark.django_db
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(
    ("username", "pattern"), FAILED_FORMS, ids=[p.strip("^$\\d+") for _u, p in FAILED_FORMS]
)
def test_a_failed_submit_shows_the_error_summary_first(username, pattern, size, demo, browser, site):
    cookies, pages = demo[username]
    url = next((url for url in pages if re.match(pattern, url)), None)
    assert url, f"{username} reaches no page like {pattern}: {pages}"
    context = open_as(browser, site, cookies, SIZES[size])
    page = context.new_page()
    try:
        page.goto(url)
        index = page.evaluate(MAIN_FORM)
        assert index is not None, f"no form at {url}"
        with page.expect_navigation():
            page.locator("main form[method=post]").nth(index).evaluate(SEND_EMPTY)
        page.wait_for_load_state()
        problem = page.evaluate(IN_FIRST_SCREEN)
        if problem:
            page.screenshot(
                path=str(artifacts_dir() / "layout" / f"failed-{username}-{size}-{slug(url)}.png")
            )
        assert problem == "", f"{url} at {size}: {problem}"
    finally:
        context.close()
