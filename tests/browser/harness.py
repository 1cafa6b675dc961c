"""Playwright driving Debian's chromium against pytest-django's live server.

One browser per session; one context (cookies, language, viewport) per person, so every
role stays signed in for the whole walk (a TOTP code is accepted once per 30 s, so signing
the same person in twice in a row would wait for the next code). Every request of every
page is recorded; a request to another host than the live server fails the test.
"""

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from django.utils import translation

from demo.seed import DEMO_TOTP_SECRET

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
TIMEOUT_MS = 10_000

# What a person can click or type into, and where it lies left or right of the screen;
# the first line says when the page itself scrolls sideways. The skip link is placed
# off-screen on purpose and slides into view when it gets the keyboard focus.
OFF_SCREEN = """() => {
  const width = window.innerWidth;
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]";
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.classList.contains("skip")) { continue; }
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) { continue; }
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") { continue; }
    if (box.left < -0.5 || box.right > width + 0.5) {
      const name = (el.innerText || el.value || el.name || el.getAttribute("aria-label") || "").trim().slice(0, 40);
      out.push(`${el.tagName.toLowerCase()} "${name}" at x=${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  const scroll = document.scrollingElement.scrollWidth;
  if (scroll > width) { out.unshift(`the page scrolls sideways: ${scroll} px wide in ${width}`); }
  return out;
}"""


def artifacts_dir():
    """Where screenshots go: $ARTIFACTS_DIR (CI prints it), ./artifacts by default."""
    root = Path(os.environ.get("ARTIFACTS_DIR") or "artifacts")
    path = (root / "browser").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class RequestLog:
    """Every URL the pages asked for, to prove nothing is loaded from elsewhere."""

    def __init__(self, base_url):
        self.origin = urlsplit(base_url).netloc
        self.urls = []

    def record(self, request):
        self.urls.append(request.url)

    def foreign(self):
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.netloc != self.origin:
                out.append(url)
        return out


class Person:
    """One person at their own browser: a context with its own cookies and viewport."""

    def __init__(self, browser, base_url, requests, *, name, viewport, language, shots):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.shots = shots
        self.context = browser.new_context(
            viewport=viewport,
            base_url=self.base_url,
            locale={"sr-latn": "sr-Latn-RS", "sq": "sq-AL"}.get(language, "en-GB"),
            is_mobile=viewport["width"] < 500,
            has_touch=viewport["width"] < 500,
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.on("request", requests.record)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", self._console)
        self.page.on("response", self._response)

    def _console(self, message):
        # A failed load is reported by _response with its address; CSP refusals and
        # script errors are reported here.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def _response(self, response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.errors.append(f"{response.status} {response.request.method} {response.url}")

    # ---- words: the UI is driven by its visible labels, in the person's language ---------

    def t(self, text):
        with translation.override(self.language):
            return translation.gettext(text)

    def exact(self, text):
        """The whole label or name, translated (Django adds a colon to field labels)."""
        return re.compile(rf"^\s*{re.escape(self.t(text))}:?\s*$")

    def field(self, label, exact=False):
        return self.page.get_by_label(self.exact(label) if exact else self.t(label)).first

    # ---- actions --------------------------------------------------------------------------

    def goto(self, path):
        self.page.goto(path if path.startswith("http") else self.base_url + path)
        return self.page

    def click_link(self, text, *, exact=False):
        self.page.get_by_role("link", name=self.exact(text) if exact else self.t(text)).first.click()
        self.page.wait_for_load_state()

    def press(self, text, *, exact=True):
        self.page.get_by_role("button", name=self.exact(text) if exact else self.t(text)).first.click()
        self.page.wait_for_load_state()

    def fill(self, label, value, *, exact=False):
        self.field(label, exact).fill(str(value))

    def choose(self, label, option, *, exact=False):
        self.field(label, exact).select_option(label=self.t(option))

    def choose_containing(self, label, text, *, exact=True):
        """Pick the option whose text contains `text` (data shown with extra words)."""
        select = self.field(label, exact)
        value = select.locator("option", has_text=text).first.get_attribute("value")
        select.select_option(value=value)

    def check(self, label, *, exact=False):
        self.field(label, exact).check()

    def upload(self, label, path, *, exact=False):
        self.field(label, exact).set_input_files(str(path))

    def switch_language(self):
        """Use the switcher in the header (a no-JS form), as a person would."""
        if self.language == "en":
            return
        names = {"sr-latn": "Srpski (latinica)", "sq": "Shqip"}
        self.page.get_by_role("button", name=names[self.language]).click()
        self.page.wait_for_load_state()
        assert self.page.locator("html").get_attribute("lang") == self.language

    def sign_in(self, username, password="demo", *, staff=True):
        self.goto("/accounts/login/")
        self.switch_language()
        self.fill("Username", username)
        self.fill("Password", password, exact=True)
        self.press("Log in")
        if staff:
            self.fill("Six-digit code from your authenticator app", pyotp.TOTP(DEMO_TOTP_SECRET).now())
            self.press("Confirm")
        assert "/accounts/" not in self.page.url, f"{username} is still at {self.page.url}"

    def shot(self, name):
        """A full-page screenshot under the artifacts folder."""
        if self.shots is None:
            return None
        path = self.shots / f"{len(list(self.shots.iterdir())):02d}-{self.name}-{slug(name)}.png"
        self.page.screenshot(path=str(path), full_page=True)
        # A full-page screenshot resizes the viewport for a moment; let the layout settle
        # back, or the next click lands where the button was during the capture.
        self.page.set_viewport_size(self.page.viewport_size)
        self.page.evaluate(
            "() => new Promise(done => { window.scrollTo(0, 0);"
            " requestAnimationFrame(() => requestAnimationFrame(done)); })"
        )
        return path

    def text(self):
        return self.page.locator("main").inner_text()

    def horizontal_overflow(self):
        """Pixels the page is wider than the viewport (0 when nothing sticks out)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")

    def off_screen(self):
        """What sticks out sideways: the clickable elements outside the screen's width,
        and whether the page scrolls sideways (an empty list when nothing does)."""
        return self.page.evaluate(OFF_SCREEN)

    def close(self):
        self.context.close()
