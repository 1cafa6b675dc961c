"""Fixtures of the browser suite (imported by tests/test_browser.py)."""

import os
from pathlib import Path

import pytest
from django.test import override_settings

from .harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Person, RequestLog, artifacts_dir, slug


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless; never a browser downloaded by Playwright.

    Playwright's sync API keeps an event loop running in this thread, which Django would
    take for async code calling the ORM; the suite's own code is synchronous."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def start_live_server():
    """pytest-django's live server, started while MEDIA_URL names a path: the project sets
    MEDIA_URL = None (documents are only served through the permission-checked view), and
    Django's live-server thread cannot wrap a media handler around None. The path is never
    linked; nothing is stored under it in these tests except what the test uploads."""
    from pytest_django.live_server_helper import LiveServer

    with override_settings(MEDIA_URL="/__live-server-media__/"):
        return LiveServer(os.environ.get("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")


@pytest.fixture(scope="module")
def live_server():
    """Named live_server, pytest-django gives each test using it a transactional database
    (emptied after the test)."""
    server = start_live_server()
    yield server
    server.stop()


@pytest.fixture
def requests_log(live_server):
    return RequestLog(live_server.url)


@pytest.fixture
def people(browser, live_server, requests_log, request):
    """people(name, viewport=..., language=...) opens a browser context for a person;
    all are closed after the test, and the test fails if any page asked another host."""
    opened = []
    shots = artifacts_dir() / slug(request.node.name)
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    print(f"\nScreenshots: {shots}")

    def open_person(name, *, viewport=DESKTOP, language="en"):
        person = Person(
            browser,
            live_server.url,
            requests_log,
            name=name,
            viewport=viewport,
            language=language,
            shots=shots,
        )
        opened.append(person)
        return person

    failed_before = request.session.testsfailed
    yield open_person
    failed = request.session.testsfailed > failed_before
    for person in opened:
        if failed:
            person.shot("at-failure")
        person.close()
    assert requests_log.urls, "no request was recorded"
    assert requests_log.foreign() == [], f"requests to other hosts: {requests_log.foreign()}"
