"""Issue 23's acceptance in a real browser: a field officer's phone (Debian's chromium,
360 × 740, touch) works without a network and syncs without loss or duplicates.

Each test drives a persistent browser profile under tmp_path, so that IndexedDB, the
service worker and its caches survive closing the browser as they survive on a phone.
Rows are counted on the server: nothing captured offline is lost, nothing applied twice."""

import datetime
import os
import time
from pathlib import Path

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone
from PIL import Image

from applicants import roles
from applicants.models import Applicant
from assessments.models import Attendance, MonitoringVisit
from assessments.services import record_visit
from audit.models import AuditEvent
from demo.seed import DEMO_TOTP_SECRET
from grants.models import Document

from .browser import fixtures
from .browser.harness import CHROMIUM, CHROMIUM_ARGS, PHONE
from .browser.world import PASSWORD, World
from .factories import (
    ApplicantFactory,
    ApplicationFactory,
    EnrolmentFactory,
    TrainingCohortFactory,
    staff,
)

pytestmark = [pytest.mark.browser]

live_server = fixtures.live_server
TIMEOUT_MS = 15_000


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


class FieldWorld(World):
    """The walk's world, with a visit due, a training session held and a colleague."""

    def __init__(self):
        super().__init__()
        person = ApplicantFactory(centre=self.centre, first_name="Dragan", last_name="Petrović")
        self.followed = ApplicationFactory(
            applicant=person,
            programme=self.programme,
            follow_up=True,
            state_facts__delivered_on=days(-95),
            business_name="Petrović bakery",
        )
        self.visit = self.followed.visits.get(months=3)
        self.cohort = TrainingCohortFactory(
            programme=self.programme, centre=self.centre, title="Spring course", sessions=1
        )
        self.session = self.cohort.sessions.get()
        trainee = ApplicantFactory(centre=self.centre, first_name="Mira", last_name="Stanković")
        self.trainee = EnrolmentFactory(
            cohort=self.cohort,
            application=ApplicationFactory(applicant=trainee, programme=self.programme, submitted=True),
        ).application
        self.colleague = staff(roles.FIELD_OFFICER, self.centre, username="colleague")


@pytest.fixture
def world(transactional_db):
    return FieldWorld()


@pytest.fixture(scope="module")
def playwright():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            yield playwright
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Phone:
    """A phone's browser: a persistent profile that can be closed and opened again."""

    def __init__(self, playwright, base_url, profile):
        self.playwright, self.base_url, self.profile = playwright, base_url.rstrip("/"), profile
        self.errors = []
        self.open()

    def open(self):
        self.context = self.playwright.chromium.launch_persistent_context(
            str(self.profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
            base_url=self.base_url,
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", self._foreign)

    def _foreign(self, request):
        if request.url.startswith(("http://", "https://")) and not request.url.startswith(self.base_url):
            self.errors.append(f"request to another host: {request.url}")

    def close(self):
        self.context.close()

    def goto(self, path):
        self.page.goto(self.base_url + path)
        if path.startswith("/field/"):
            self.page.wait_for_selector("#field[data-ready=yes]", state="attached")

    def sign_in(self, *, code=None):
        self.page.goto(self.base_url + "/accounts/login/?next=/field/")
        self.page.get_by_label("Username").fill("officer")
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.get_by_label("Six-digit code from your authenticator app").fill(
            code or pyotp.TOTP(DEMO_TOTP_SECRET).now()
        )
        self.page.get_by_role("button", name="Confirm").click()
        self.page.wait_for_url("**/field/")
        self.page.wait_for_selector("#field[data-ready=yes]", state="attached")

    def refresh_pack(self):
        self.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        self.page.get_by_test_id("refresh-pack").click()
        self.page.locator("#field-notice").get_by_text("Field pack refreshed.").wait_for()

    def waiting(self, count):
        self.page.get_by_test_id("waiting-count").filter(
            has_text=f"Items waiting to be sent: {count}"
        ).wait_for()

    def saved(self):
        self.page.locator("#field-notice").get_by_text("Saved on this phone.", exact=False).wait_for()

    def record_visit(self, world, *, notes, photo=None):
        self.goto(f"/field/visit/?visit={world.visit.pk}")
        self.page.get_by_label("Business operating").check()
        self.page.get_by_label("Equipment in use").check()
        self.page.get_by_label("Monthly revenue").fill("520")
        self.page.get_by_label("Notes").fill(notes)
        if photo:
            self.page.get_by_label("Photos").set_input_files(str(photo))
        self.page.get_by_role("button", name="Save the visit on this phone").click()
        self.saved()

    def record_attendance(self, world):
        self.goto(f"/field/attendance/?session={world.session.pk}")
        self.page.get_by_label("Mira Stanković").check()
        self.page.get_by_role("button", name="Save the attendance on this phone").click()
        self.saved()

    def register(self, world):
        self.goto("/field/register/")
        self.page.get_by_label("First name").fill("Jelena")
        self.page.get_by_label("Last name").fill("Marković")
        self.page.get_by_label("Date of birth").fill("1991-04-02")
        self.page.get_by_label("Socially disadvantaged").check()
        self.page.get_by_label("The person signed the consent form").check()
        self.page.get_by_role("button", name="Save the registration on this phone").click()
        self.saved()


@pytest.fixture
def phone(playwright, live_server, tmp_path, world):
    opened = Phone(playwright, live_server.url, tmp_path / "profile")
    yield opened
    opened.close()
    assert opened.errors == []


def photo_file(tmp_path):
    path = tmp_path / "shop.jpg"
    Image.new("RGB", (320, 240), "#c84").save(path, "JPEG")
    return path


def synced(kind):
    return AuditEvent.objects.filter(action="field_item_synced", data__kind=kind).count()


def test_it_captures_offline_survives_a_restart_and_syncs_each_item_once(phone, world, tmp_path):
    phone.sign_in()
    phone.refresh_pack()
    phone.context.set_offline(True)
    phone.page.reload()
    phone.page.wait_for_selector("#field[data-ready=yes]", state="attached")
    assert phone.page.get_by_role("heading", name="Field work", exact=True).is_visible()
    assert phone.page.get_by_role("link", name="Petrović bakery", exact=False).is_visible()

    phone.record_visit(world, notes="Open, two ovens working.", photo=photo_file(tmp_path))
    phone.record_attendance(world)
    phone.register(world)
    phone.goto("/field/")
    phone.waiting(3)

    # The phone is switched off and on again, still without a network.
    phone.close()
    phone.open()
    phone.context.set_offline(True)
    phone.goto("/field/")
    phone.waiting(3)
    assert phone.page.get_by_test_id("item-waiting").count() == 3
    assert MonitoringVisit.objects.get(pk=world.visit.pk).visited_on is None
    assert not Attendance.objects.filter(session=world.session).exists()
    assert not Applicant.objects.filter(first_name="Jelena").exists()

    phone.context.set_offline(False)
    phone.page.get_by_test_id("sync-now").click()
    phone.waiting(0)

    visit = MonitoringVisit.objects.get(pk=world.visit.pk)
    assert visit.visited_on == timezone.localdate() and visit.notes == "Open, two ovens working."
    assert visit.recorded_by == world.officer
    assert Document.objects.filter(application=world.followed, kind="photo").count() == 1
    assert Attendance.objects.filter(session=world.session).count() == 1
    assert Attendance.objects.get(session=world.session).present is True
    assert Applicant.objects.filter(first_name="Jelena", last_name="Marković").count() == 1
    assert (synced("visit"), synced("attendance"), synced("registration")) == (1, 1, 1)
    assert AuditEvent.objects.filter(action="visit_recorded").count() == 1
    assert AuditEvent.objects.filter(action="attendance_recorded").count() == 1
    assert AuditEvent.objects.filter(action="register_applicant").count() == 1


def test_a_person_trained_without_an_application_is_marked_offline(phone, world):
    """Training as a service of its own (issue 21): a person enrolled directly is on the
    session's sheet offline, beside the applicants, and their mark reaches the server
    once."""
    person = ApplicantFactory(centre=world.centre, first_name="Vesna", last_name="Jovanović")
    EnrolmentFactory(cohort=world.cohort, application=None, applicant=person)
    phone.sign_in()
    phone.refresh_pack()
    phone.context.set_offline(True)
    phone.goto(f"/field/attendance/?session={world.session.pk}")
    assert phone.page.get_by_label("Mira Stanković").is_visible()
    phone.page.get_by_label("Vesna Jovanović").check()
    phone.page.get_by_role("button", name="Save the attendance on this phone").click()
    phone.saved()
    phone.goto("/field/")
    phone.waiting(2)
    assert not Attendance.objects.filter(session=world.session).exists()

    phone.context.set_offline(False)
    phone.page.get_by_test_id("sync-now").click()
    phone.waiting(0)
    assert Attendance.objects.get(session=world.session, enrolment__applicant=person).present is True
    assert (
        Attendance.objects.get(session=world.session, enrolment__application=world.trainee).present is False
    )
    assert Attendance.objects.filter(session=world.session).count() == 2
    assert synced("attendance") == 2


def test_a_lost_answer_is_sent_again_and_applied_once(phone, world):
    phone.sign_in()
    phone.refresh_pack()
    reached = []

    def lose_the_answer(route):
        route.fetch()  # the server applies it...
        reached.append(route.request.headers.get("idempotency-key"))
        route.abort()  # ...and the answer never reaches the phone

    phone.page.route("**/api/v1/field/sync/", lose_the_answer)
    phone.context.set_offline(True)
    phone.record_attendance(world)
    phone.goto("/field/")
    with phone.page.expect_event("requestfailed", lambda r: r.url.endswith("/field/sync/")):
        phone.context.set_offline(False)
        phone.page.get_by_test_id("sync-now").click()
    phone.waiting(1)
    assert len(reached) == 1
    assert Attendance.objects.filter(session=world.session).count() == 1

    phone.page.unroute("**/api/v1/field/sync/")
    replayed = []
    phone.page.on(
        "response",
        lambda r: (
            replayed.append(r.headers.get("idempotent-replayed")) if r.url.endswith("/field/sync/") else None
        ),
    )
    phone.page.get_by_test_id("sync-now").click()
    phone.waiting(0)
    # The server answered the second request from its record of the first.
    assert replayed == ["true"]
    assert Attendance.objects.filter(session=world.session).count() == 1
    assert AuditEvent.objects.filter(action="attendance_recorded").count() == 1
    assert synced("attendance") == 1


def test_a_visit_recorded_by_a_colleague_meanwhile_is_shown_as_a_conflict(phone, world):
    phone.sign_in()
    phone.refresh_pack()
    phone.context.set_offline(True)
    phone.record_visit(world, notes="Seen by me in the village.")
    record_visit(
        by=world.colleague,
        visit=world.visit,
        visited_on=timezone.localdate(),
        operating=False,
        equipment_in_use=False,
        notes="Closed when I came.",
    )
    phone.goto("/field/")
    phone.context.set_offline(False)
    phone.page.get_by_test_id("sync-now").click()
    conflict = phone.page.get_by_test_id("item-conflict")
    conflict.wait_for()
    compare = conflict.get_by_test_id("compare")
    assert "Seen by me in the village." in compare.inner_text()
    assert "Closed when I came." in compare.inner_text()
    assert "colleague" in compare.inner_text()
    phone.waiting(1)
    assert MonitoringVisit.objects.get(pk=world.visit.pk).notes == "Closed when I came."

    conflict.get_by_test_id("discard").click()
    phone.waiting(0)
    assert MonitoringVisit.objects.get(pk=world.visit.pk).notes == "Closed when I came."
    assert AuditEvent.objects.filter(action="visit_recorded").count() == 1


def test_a_session_ended_while_offline_keeps_the_queue_until_signed_in_again(phone, world):
    phone.sign_in()
    phone.refresh_pack()
    phone.context.set_offline(True)
    phone.register(world)
    Session.objects.all().delete()
    phone.goto("/field/")
    phone.context.set_offline(False)
    phone.page.get_by_test_id("sync-now").click()
    phone.page.get_by_role("link", name="Sign in again").wait_for()
    phone.waiting(1)
    assert not Applicant.objects.filter(first_name="Jelena").exists()
    # The pack is gone from the phone; the queue is not.
    assert phone.page.get_by_test_id("pack-status").inner_text().startswith("No field pack")

    # A TOTP code is taken once: the next one (the device accepts one step of drift).
    phone.sign_in(code=pyotp.TOTP(DEMO_TOTP_SECRET).at(time.time() + 30))
    phone.waiting(0)
    assert Applicant.objects.filter(first_name="Jelena", last_name="Marković").count() == 1
    assert synced("registration") == 1


def test_logout_deletes_the_pack_from_the_phone(phone, world):
    phone.sign_in()
    phone.refresh_pack()
    with phone.page.expect_response(lambda r: r.url.endswith("/accounts/logout/")) as answer:
        phone.page.get_by_role("button", name="Log out").click()
    assert answer.value.all_headers().get("clear-site-data") == '"storage"'
    phone.page.wait_for_url(lambda url: "/field/" not in url)
    phone.page.wait_for_load_state()
    left = phone.page.evaluate(
        """() => new Promise(resolve => {
             const open = indexedDB.open("field", 1);
             open.onupgradeneeded = () => {};
             open.onsuccess = () => {
               const db = open.result;
               if (!db.objectStoreNames.contains("pack")) { db.close(); resolve(null); return; }
               const get = db.transaction("pack").objectStore("pack").get("pack");
               get.onsuccess = () => { db.close(); resolve(get.result || null); };
             };
           })"""
    )
    assert left is None
    assert phone.page.evaluate("caches.has('field-pages')") is False


def test_logout_with_items_waiting_asks_first(phone, world):
    phone.sign_in()
    phone.refresh_pack()
    phone.page.route("**/api/v1/field/sync/", lambda route: route.abort())
    phone.register(world)
    phone.goto("/field/")
    phone.waiting(1)
    # The question comes after the queue is read (IndexedDB answers later than the click):
    # wait for it, then answer.
    with phone.page.expect_event("dialog") as asked:
        phone.page.get_by_role("button", name="Log out").click()
    question = asked.value
    assert question.message == (
        "1 items have not been sent yet. Logging out deletes them from this phone. Log out anyway?"
    )
    question.dismiss()
    phone.waiting(1)
    assert phone.page.url.endswith("/field/")

    with phone.page.expect_event("dialog") as asked:
        phone.page.get_by_role("button", name="Log out").click()
    asked.value.accept()
    phone.page.wait_for_url("**/accounts/login/")
    assert not Applicant.objects.filter(first_name="Jelena").exists()
    assert phone.page.evaluate("indexedDB.databases().then(list => list.map(db => db.name))") == []
