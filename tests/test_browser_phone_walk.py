"""Issue 17's acceptance: one application from sign-up to completed at a phone's size
(360 × 740, touch), every workflow step taken by the next-step panel's primary action
([data-testid=next-step] [data-testid=primary-action]) as the person whose move it is,
and every form it leads to filled in where it leads. A screenshot per step goes to
$ARTIFACTS_DIR/browser/<test>/ (default ./artifacts; the folder is printed).

On every page of the walk nothing a person can click lies outside the screen and the page
does not scroll sideways; the field officer's pages for the attendance, the visit and the
handover protocol are checked by name."""

import datetime
import re

import pytest
from django.utils import timezone

from assessments.models import MonitoringVisit
from grants.models import GrantApplication

from .browser import fixtures
from .browser.harness import PHONE, slug
from .browser.world import World, pdf_file
from .test_browser import BUSINESS, Walk, assert_walked

pytestmark = [pytest.mark.browser, pytest.mark.slow]

browser, live_server = fixtures.browser, fixtures.live_server
people, requests_log = fixtures.people, fixtures.requests_log

PANEL = "[data-testid=next-step]"
PRIMARY = f"{PANEL} [data-testid=primary-action]"


@pytest.fixture
def world(transactional_db):
    return World()


class PanelWalk(Walk):
    """The walk of tests/test_browser.py, but each step is the panel's primary action."""

    def __init__(self, people, world, tmp_path):
        super().__init__(people, world, tmp_path, viewport=PHONE)
        self.step_number = 0
        self.off_screen = []
        self.reached = {}

    def seen(self, person, name):
        self.step_number += 1
        person.shot(f"step-{self.step_number:02d}-{name}")
        if found := person.off_screen():
            self.off_screen.append((person.name, name, person.page.url, found))

    def primary(self, person, label, *, partial=False):
        """Click the panel's one primary action, whose text is `label` (translated)."""
        action = person.page.locator(PRIMARY)
        panel = person.page.locator(PANEL)
        assert panel.count() == 1, f"{person.name}: no next-step panel at {person.page.url}"
        assert action.count() == 1, f"{person.name} at {person.page.url}: {panel.inner_text()}"
        text = action.inner_text().strip()
        wanted = person.t(label)
        assert text.startswith(wanted) if partial else text == wanted, (
            f"{person.name}: {text!r}, not {wanted!r}"
        )
        # The panel is the first thing under the heading: no scrolling to find the step.
        box = action.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"] * 1.5, f"{text!r} is {box['y']:.0f} px down"
        self.seen(person, slug(text)[:40])
        action.click()
        person.page.wait_for_load_state()
        self.no_error(person)

    def waits(self, person):
        """Nothing for this person to do now: the panel names whom the step waits for."""
        assert person.page.locator(PRIMARY).count() == 0, person.page.url
        assert person.page.locator(f"{PANEL} [data-testid=waiting]").count() == 1, person.page.url

    def back_to_application(self, person):
        person.goto(f"/applications/{self.application().pk}/")

    def application(self):
        return GrantApplication.objects.get(business_name=BUSINESS)

    def checked(self, person, name):
        """A page the officer must reach at a phone's width: nothing off-screen."""
        self.reached[name] = person.off_screen()

    # ---- the walk -------------------------------------------------------------------------

    def run(self):
        today = timezone.localdate()
        applicant = self.open("applicant")
        self.sign_up(applicant)
        self.draft(applicant)
        self.primary(applicant, "Send the application")
        self.state_is(applicant, "Submitted")

        officer = self.open("officer")
        officer.sign_in("officer")
        officer.click_link("Applications", exact=True)
        self.open_application(officer)
        self.primary(officer, "Create a training course")
        self.course(officer, today)
        self.back_to_application(officer)
        self.primary(officer, "Admit to business training")
        self.state_is(officer, "Business training")

        self.primary(officer, "Record the attendance")
        self.attendance(officer)
        self.back_to_application(officer)
        self.primary(officer, "Assess the application")
        self.assessment(officer, today)
        self.back_to_application(officer)
        self.seen(officer, "waiting-for-approval")
        self.waits(officer)

        manager = self.open("manager")
        manager.sign_in("manager")
        manager.click_link("Approvals", exact=True)
        self.open_application(manager)
        self.primary(manager, "Approve")
        self.state_is(manager, "Approved")

        finance = self.open("finance")
        finance.sign_in("finance")
        finance.click_link("Deliveries", exact=True)
        self.open_application(finance)
        self.primary(finance, "Record a delivery")
        self.delivery(finance, today)
        self.back_to_application(finance)

        officer.page.reload()
        # The officer hands the equipment over in the field and uploads the signed protocol.
        self.primary(officer, "Upload the signed handover protocol")
        self.handover(officer)
        self.state_is(officer, "Equipment delivered")

        officer.page.reload()
        self.primary(officer, "Start follow-up visits")
        self.state_is(officer, "Follow-up")
        # The walk takes a year in an afternoon: the visits fall due today, inside their
        # window (a visit is refused more than 30 days before it is due).
        MonitoringVisit.objects.filter(visited_on__isnull=True).update(due_on=today)
        for _number in range(3):
            officer.page.reload()
            self.primary(officer, "Record the visit due on", partial=True)
            self.visit_form(officer, today)
            self.back_to_application(officer)
        self.primary(officer, "Complete the grant")
        self.state_is(officer, "Completed")
        self.seen(officer, "completed")

        applicant.click_link("My applications", exact=True)
        self.state_is(applicant, "Completed")
        self.seen(applicant, "completed")

        for person in (applicant, officer, manager, finance):
            assert person.errors == [], f"{person.name}: {person.errors}"
        return self.application()

    # ---- the forms the primary actions lead to --------------------------------------------

    def draft(self, applicant):
        self.write_draft(applicant, buyers="Shops and kiosks in Niš, and the Saturday market.")

    def course(self, officer, today):
        officer.fill("Course title", "Start and run your business")
        officer.choose_containing("Programme", self.world.programme.name)
        officer.choose_containing("Centre", self.world.centre.name)
        dates = officer.page.get_by_label(officer.exact("Session date"))
        if dates.count() < 2:
            officer.press("Add a date")
        dates.nth(0).fill((today - datetime.timedelta(days=1)).isoformat())
        dates.nth(1).fill(today.isoformat())
        self.seen(officer, "course-form")
        officer.press("Create the course")
        officer.choose_containing("Application", BUSINESS)
        officer.press("Enrol")
        self.seen(officer, "enrolled")

    def attendance(self, officer):
        boxes = officer.page.get_by_role("checkbox", name=re.compile("^Jelena Nikolić"))
        assert boxes.count() == 2
        for index in range(boxes.count()):
            box = boxes.nth(index).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, f"a box of {box['width']} × {box['height']} px"
            boxes.nth(index).check()
        self.checked(officer, "attendance")
        self.seen(officer, "attendance")
        officer.press("Save attendance")

    def assessment(self, officer, today):
        officer.fill("Date of the site visit", today.isoformat())
        officer.fill("What you saw at the site", "A clean room with water and power; the landlord agrees.")
        fours = officer.page.get_by_role("radio", name="4", exact=True)
        for index in range(fours.count()):
            fours.nth(index).check()
        officer.page.get_by_role("radio", name=officer.t("Approve"), exact=True).check()
        officer.fill("Reasons", "Experienced baker, a market nearby.")
        self.seen(officer, "assessment-form")
        officer.press("Save the assessment")
        assert officer.t("The assessment is saved.") in officer.page.locator("body").inner_text()

    def delivery(self, finance, today):
        finance.fill("Delivered on", today.isoformat())
        finance.fill("Supplier", "Tehno Pek d.o.o.")
        finance.fill("Invoice number", "TP-2026-118")
        quantities = finance.page.get_by_label(finance.t("Quantity delivered now"))
        prices = finance.page.get_by_label(finance.t("Actual price of one"))
        for index, price in enumerate(["1420", "395"]):
            quantities.nth(index).fill("1")
            prices.nth(index).fill(price)
        self.seen(finance, "delivery-form")
        finance.press("Record the delivery")
        assert "/deliveries/new/" not in finance.page.url, finance.text()

    def handover(self, person):
        self.checked(person, "upload handover protocol")
        kind = person.field("Kind of document")
        if kind.input_value() != "handover_protocol":
            person.choose("Kind of document", "Handover protocol")
        person.upload("File", pdf_file(self.tmp_path / "handover.pdf", "Handover protocol, signed"))
        self.seen(person, "handover-upload")
        person.press("Upload")

    def visit_form(self, officer, today):
        self.checked(officer, "record visit")
        field = officer.field("Visited on")
        if not field.input_value():
            field.fill(today.isoformat())
        officer.page.get_by_role("group", name=officer.t("Is the business operating?")).get_by_role(
            "radio", name=officer.t("Yes")
        ).check()
        officer.page.get_by_role("group", name=officer.t("Is the equipment in use?")).get_by_role(
            "radio", name=officer.t("Yes")
        ).check()
        officer.fill("Money coming in per month", "1350")
        self.seen(officer, "visit-form")
        officer.press("Save the visit")
        self.no_error(officer)


def test_the_walk_at_a_phone_size_follows_the_next_step_panel(world, people, tmp_path):
    walk = PanelWalk(people, world, tmp_path)
    application = walk.run()
    assert_walked(application, returned=False)
    assert walk.off_screen == [], f"off-screen at 360 px: {walk.off_screen}"
    assert set(walk.reached) == {"attendance", "record visit", "upload handover protocol"}, walk.reached
    assert all(found == [] for found in walk.reached.values()), walk.reached
