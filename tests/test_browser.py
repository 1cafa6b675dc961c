"""End to end in a real browser (Debian's chromium through Playwright) against a live
server: one application from sign-up to completed across the roles, through the UI only;
the same at a phone's width; once in Serbian. No page may load anything from another host
(every request is recorded). Screenshots of the main pages go under
$ARTIFACTS_DIR/browser/<test>/ (default ./artifacts; the path is printed)."""

import datetime
import re

import pytest
from django.utils import timezone

from assessments.models import MonitoringVisit
from grants.models import AuditEvent, GrantApplication

from .browser import fixtures
from .browser.harness import DESKTOP, PHONE
from .browser.world import World, pdf_file

pytestmark = [pytest.mark.browser, pytest.mark.slow]

browser, live_server = fixtures.browser, fixtures.live_server
people, requests_log = fixtures.people, fixtures.requests_log

BUSINESS = "Pekara Sunce"
APPLICANT_PASSWORD = "Sunce-pekara-2026"  # noqa: S105 - typed into the sign-up form


@pytest.fixture
def world(transactional_db):
    return World()


class Walk:
    """One application from sign-up to completed; each person in their own browser."""

    def __init__(self, people, world, tmp_path, *, viewport=DESKTOP, language="en", shots=None):
        self.world = world
        self.shots = shots
        self.tmp_path = tmp_path
        self.viewport = viewport
        self.language = language
        self.open = lambda name: people(name, viewport=viewport, language=language)
        self.overflows = []

    # ---- helpers --------------------------------------------------------------------------

    def seen(self, person, name):
        """A screenshot, and at a phone's width: nothing may stick out sideways."""
        if self.shots is None or name in self.shots:
            person.shot(name)
        if self.viewport["width"] < 500 and person.horizontal_overflow() > 0:
            self.overflows.append((name, person.page.url, person.horizontal_overflow()))

    def state_is(self, person, state_label):
        badge = person.page.locator(".badge").first
        assert badge.inner_text().strip() == person.t(state_label), person.page.url

    def step(self, person, label, comment=None):
        if comment is not None:
            person.fill("Comment", comment, exact=True)
        person.press(label)
        self.no_error(person)

    def no_error(self, person):
        alerts = person.page.locator(".msg.error, [role=alert]")
        assert alerts.count() == 0, f"{person.page.url}: {alerts.first.inner_text()}"

    def open_application(self, person):
        person.page.get_by_role("link", name=re.compile(re.escape(BUSINESS))).first.click()
        person.page.wait_for_load_state()

    # ---- the walk -------------------------------------------------------------------------

    def run(self):
        today = timezone.localdate()
        applicant = self.open("applicant")
        self.sign_up(applicant)
        self.apply(applicant)

        officer = self.open("officer")
        officer.sign_in("officer")
        self.seen(officer, "inbox")
        officer.click_link("Applications", exact=True)
        self.open_application(officer)
        self.state_is(officer, "Submitted")
        self.seen(officer, "application-submitted")
        self.step(officer, "Return for changes", comment="Please say where you will sell the bread.")
        self.state_is(officer, "Draft")

        applicant.click_link("My applications", exact=True)
        self.open_application(applicant)
        assert "Please say where you will sell the bread." in applicant.text()
        applicant.click_link("Change the plan or the equipment")
        applicant.fill("Who will buy from you?", "Shops and kiosks in Niš, and the Saturday market.")
        applicant.press("Save")
        applicant.press("Send the application")
        self.state_is(applicant, "Submitted")

        officer.page.reload()
        self.state_is(officer, "Submitted")
        self.train(officer, today)
        self.assess(officer, today)

        manager = self.open("manager")
        manager.sign_in("manager")
        manager.click_link("Approvals", exact=True)
        self.seen(manager, "approvals")
        self.open_application(manager)
        self.step(manager, "Approve", comment="Training completed, a sound plan.")
        self.state_is(manager, "Approved")

        finance = self.open("finance")
        finance.sign_in("finance")
        self.deliver(finance, today)

        officer.page.reload()
        self.state_is(officer, "Equipment delivered")
        self.step(officer, "Start follow-up visits")
        self.state_is(officer, "Follow-up")
        # The walk takes a year in an afternoon: the visits fall due today, inside their
        # window (a visit is refused more than 30 days before it is due).
        MonitoringVisit.objects.filter(visited_on__isnull=True).update(due_on=today)
        officer.page.reload()
        for number in range(3):
            self.visit(officer, today, first=number == 0)
        self.step(officer, "Complete the grant")
        self.state_is(officer, "Completed")
        self.seen(officer, "application-completed")

        applicant.click_link("My applications", exact=True)
        self.state_is(applicant, "Completed")
        self.seen(applicant, "my-applications-completed")

        for person in (applicant, officer, manager, finance):
            assert person.errors == [], f"{person.name}: {person.errors}"
        assert self.overflows == [], f"wider than the screen: {self.overflows}"
        return GrantApplication.objects.get(business_name=BUSINESS)

    def sign_up(self, applicant):
        applicant.goto("/")
        applicant.switch_language()
        applicant.click_link("New here? Register to apply")
        self.seen(applicant, "sign-up")
        applicant.fill("First name", "Jelena")
        applicant.fill("Last name", "Nikolić")
        applicant.fill("Date of birth", "1988-04-12")
        applicant.fill("Phone", "064 1234567", exact=True)
        applicant.fill("Municipality", "Niš")
        applicant.choose_containing("Integration centre", self.world.centre.name)
        applicant.check("Returnee", exact=True)
        applicant.check(
            "Optional: that you returned from abroad, the country and the date. Only your field "
            "officer and the centre's programme managers see it."
        )
        applicant.fill("People in the household", "3")
        applicant.fill("Of them, people who depend on you", "1")
        applicant.fill("Choose a password", APPLICANT_PASSWORD)
        applicant.fill("The same password again", APPLICANT_PASSWORD)
        applicant.check("I have read the text above and agree that my data is used this way.")
        applicant.press("Register")
        assert "/signup/" not in applicant.page.url, applicant.text()

    def apply(self, applicant):
        self.write_draft(applicant)
        applicant.press("Send the application")
        self.state_is(applicant, "Submitted")
        self.seen(applicant, "application-sent")

    def write_draft(self, applicant, buyers="Neighbours."):
        """From the programme list to a saved draft with its business plan uploaded."""
        applicant.click_link("Start a new application")
        applicant.click_link("Apply to this programme")
        applicant.fill("Business name", BUSINESS)
        applicant.choose("Sector", "Food")
        applicant.fill("What will the business do?", "Bake bread and pastries every morning.")
        applicant.fill("Who will buy from you?", buyers)
        applicant.fill("Your experience in this work", "Eight years in a bakery in Germany.")
        applicant.fill("Expected money coming in per month", "1200")
        applicant.fill("Expected costs per month", "450")
        applicant.fill("Jobs planned (including yours)", "2")
        page = applicant.page
        descriptions = page.get_by_label(applicant.exact("Equipment"))
        if descriptions.count() < 2:
            applicant.press("Add a row")
        rows = [("Bakery oven", "1", "1450"), ("Dough mixer", "1", "380")]
        for index, (description, quantity, price) in enumerate(rows):
            page.get_by_label(applicant.exact("Equipment")).nth(index).fill(description)
            page.get_by_label(applicant.exact("Quantity")).nth(index).fill(quantity)
            page.get_by_label(applicant.exact("Price of one (estimate)")).nth(index).fill(price)
        self.seen(applicant, "application-form")
        applicant.press("Save")
        self.state_is(applicant, "Draft")
        applicant.choose("Kind of document", "Business plan")
        applicant.upload("File", pdf_file(self.tmp_path / "business-plan.pdf", "Business plan: Pekara Sunce"))
        applicant.press("Upload")
        assert "business-plan.pdf" in applicant.text()

    def train(self, officer, today):
        officer.click_link("Create a training course for this centre and programme")
        officer.fill("Course title", "Start and run your business")
        officer.choose_containing("Programme", self.world.programme.name)
        officer.choose_containing("Centre", self.world.centre.name)
        dates = officer.page.get_by_label(officer.exact("Session date"))
        if dates.count() < 2:
            officer.press("Add a date")
        dates.nth(0).fill((today - datetime.timedelta(days=1)).isoformat())
        dates.nth(1).fill(today.isoformat())
        officer.press("Create the course")
        officer.choose_containing("Application", BUSINESS)
        officer.press("Enrol")
        officer.page.get_by_role("link", name="Jelena Nikolić").first.click()
        officer.page.wait_for_load_state()
        self.step(officer, "Admit to business training")
        self.state_is(officer, "Business training")

        officer.page.get_by_role("link", name="Start and run your business").first.click()
        officer.page.wait_for_load_state()
        boxes = officer.page.get_by_role("checkbox", name=re.compile("^Jelena Nikolić"))
        assert boxes.count() == 2
        for index in range(boxes.count()):
            boxes.nth(index).check()
        self.seen(officer, "attendance-sheet")
        officer.press("Save attendance")
        officer.page.get_by_role("link", name="Jelena Nikolić").first.click()
        officer.page.wait_for_load_state()
        assert officer.t("Training completed.") in officer.text()

    def assess(self, officer, today):
        officer.click_link("Assess", exact=True)
        officer.fill("Date of the site visit", today.isoformat())
        officer.fill("What you saw at the site", "A clean room with water and power; the landlord agrees.")
        fours = officer.page.get_by_role("radio", name="4", exact=True)
        assert fours.count() == 5
        for index in range(fours.count()):
            fours.nth(index).check()
        officer.page.get_by_role("radio", name=officer.t("Approve"), exact=True).check()
        officer.fill("Reasons", "Experienced baker, a market nearby.")
        self.seen(officer, "assessment-form")
        officer.press("Save the assessment")
        assert officer.t("The assessment is saved.") in officer.page.locator("body").inner_text()

    def deliver(self, finance, today):
        finance.click_link("Deliveries", exact=True)
        self.seen(finance, "deliveries")
        self.open_application(finance)
        finance.click_link("Record a delivery")
        finance.fill("Delivered on", today.isoformat())
        finance.fill("Supplier", "Tehno Pek d.o.o.")
        finance.fill("Invoice number", "TP-2026-118")
        quantities = finance.page.get_by_label(finance.t("Quantity delivered now"))
        prices = finance.page.get_by_label(finance.t("Actual price of one"))
        assert quantities.count() == 2
        for index, price in enumerate(["1420", "395"]):
            quantities.nth(index).fill("1")
            prices.nth(index).fill(price)
        self.seen(finance, "delivery-form")
        finance.press("Record the delivery")
        if "/deliveries/new/" in finance.page.url:
            raise AssertionError(finance.text())
        if not finance.page.get_by_label(finance.t("Kind of document")).count():
            self.open_application(finance)
        finance.choose("Kind of document", "Handover protocol")
        finance.upload("File", pdf_file(self.tmp_path / "handover.pdf", "Handover protocol, signed"))
        finance.press("Upload")
        self.state_is(finance, "Equipment delivered")
        self.seen(finance, "application-delivered")

    def visit(self, officer, today, *, first):
        officer.page.get_by_role("link", name=officer.exact("Record")).first.click()
        officer.page.wait_for_load_state()
        officer.fill("Visited on", today.isoformat())
        officer.page.get_by_role("group", name=officer.t("Is the business operating?")).get_by_role(
            "radio", name=officer.t("Yes")
        ).check()
        officer.page.get_by_role("group", name=officer.t("Is the equipment in use?")).get_by_role(
            "radio", name=officer.t("Yes")
        ).check()
        officer.fill("Money coming in per month", "1350")
        if first:
            self.seen(officer, "visit-form")
        officer.press("Save the visit")


def assert_walked(application, *, returned=True):
    """Completed through every step; `returned`: sent back for changes once on the way."""
    assert application.state == "completed"
    actions = list(
        AuditEvent.objects.filter(application=application).order_by("id").values_list("action", flat=True)
    )
    transitions = [
        a for a in actions if a in {"submit", "return_for_changes", "admit_to_training", "approve"}
    ]
    first = ["submit", "return_for_changes"] if returned else []
    assert transitions == [*first, "submit", "admit_to_training", "approve"]
    for action in ("record_delivery", "start_follow_up", "complete"):
        assert action in actions
    assert application.applicant.user.username.startswith("jelena-")
    assert application.visits.filter(visited_on__isnull=False).count() == 3
    assert application.documents.filter(kind="handover_protocol").exists()


def test_one_application_from_sign_up_to_completed(world, people, tmp_path):
    assert_walked(Walk(people, world, tmp_path).run())


def test_the_same_walk_at_a_phone_width(world, people, tmp_path):
    assert_walked(Walk(people, world, tmp_path, viewport=PHONE).run())


def test_the_walk_in_serbian(world, people, tmp_path):
    shots = {"sign-up", "application-form", "application-completed", "my-applications-completed"}
    application = Walk(people, world, tmp_path, language="sr-latn", shots=shots).run()
    assert_walked(application)
    assert application.applicant.language == "sr-latn"


def test_no_page_loads_anything_from_another_host(world, people, requests_log):
    """The sign-in and sign-up pages, and every page of the manager's menu (a superset of
    finance's and the auditor's) with their CSS, JS and images: all from the live server.
    The walks above check the same for every page they open."""
    anonymous = people("anonymous")
    anonymous.goto("/accounts/login/")
    anonymous.goto("/signup/")
    manager = people("manager")
    manager.sign_in("manager")
    links = manager.page.get_by_role("navigation").first.get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "/dashboard/" in hrefs and "/finance/" in hrefs
    for href in hrefs:
        manager.goto(href)
    assert manager.errors == [] and anonymous.errors == []
    assert any(url.endswith(".css") for url in requests_log.urls)
    assert any(url.endswith(".js") for url in requests_log.urls)
    assert requests_log.foreign() == []


# Words a page left in English would show (Django's own messages included).
ENGLISH = (
    "Select an option",
    "What we do with your data",
    "Separate consents",
    "Optional:",
    "Returnee",
    "Choose a password",
    "This password",
    "Register",
    "Log in",
)


@pytest.mark.parametrize(
    ("language", "authority"),
    [
        ("sr-latn", "Poverenika za informacije od javnog značaja"),
        ("sq", "Agjencisë për Informim dhe Privatësi"),
    ],
)
def test_the_sign_up_page_has_no_english_word_in_serbian_and_albanian(world, people, language, authority):
    """Issue 19: the sign-up page as a person reads it in their language, the consent
    naming the supervisory authority (the password rule's error in Albanian is checked
    without a browser, tests/test_words.py: the browser would not send a half-filled form)."""
    anonymous = people("anonymous", language=language)
    anonymous.goto("/signup/")
    text = anonymous.text()
    assert not [word for word in ENGLISH if word in text], text
    assert anonymous.t("Separate consents, each optional") in text
    assert anonymous.t("At least 10 characters; not only digits.") in text
    assert authority in text
    assert anonymous.errors == []
