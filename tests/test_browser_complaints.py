"""Acceptance of the complaints channel in a real browser at a phone's size (360×740):
a complaint filed on the public form without an account reaches the centre's programme
manager, is acknowledged, resolved and shown in the register, and the person reads the
outcome with the reference and code; a complaint of misconduct reaches the safeguarding
focal point and not the manager. Through the UI only."""

import time

import pytest

from applicants import roles
from complaints.models import Complaint

from .browser import fixtures
from .browser.harness import PHONE
from .browser.world import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]

browser, live_server = fixtures.browser, fixtures.live_server
people, requests_log = fixtures.people, fixtures.requests_log


@pytest.fixture
def world(transactional_db, settings):
    settings.COMPLAINT_FORM_MIN_SECONDS = 1
    world = World()
    world.focal = world._staff(roles.SAFEGUARDING_FOCAL_POINT, "focal", "Sara", "Kovač")
    return world


def fits(person):
    assert person.horizontal_overflow() == 0, f"wider than the screen: {person.page.url}"


def file_complaint(person, category, description, *, centre=None, email=None):
    person.goto("/")
    person.click_link("Make a complaint", exact=True)
    fits(person)
    person.page.get_by_label(person.t(category), exact=True).check()
    if centre:
        person.choose("Which centre is it about?", centre)
    person.fill("What happened?", description)
    if email:
        person.fill("Your email (optional)", email)
    time.sleep(1.2)  # a person takes longer than COMPLAINT_FORM_MIN_SECONDS (1 s here)
    person.press("Send the complaint")
    fits(person)
    reference = person.page.get_by_test_id("reference").inner_text().strip()
    code = person.page.get_by_test_id("code").inner_text().strip()
    return reference, code


def test_a_public_complaint_reaches_its_owner_is_answered_and_reported(world, people):
    person = people("person", viewport=PHONE)
    reference, code = file_complaint(
        person, "Delays", "I was promised a visit in May and nobody came.",
        centre="Integration Centre Niš", email="person@example.org",
    )  # fmt: skip
    person.shot("complaint-received")
    assert reference.startswith("C-") and len(code) == 8

    manager = people("manager", viewport=PHONE)
    manager.sign_in("manager")
    manager.click_link("Complaints", exact=True)
    fits(manager)
    manager.page.get_by_role("link", name=reference).click()
    manager.page.wait_for_load_state()
    assert manager.page.get_by_test_id("owner").inner_text().strip() == "Milan Stojković"
    assert "nobody came" in manager.text()
    manager.press("Acknowledge")
    assert manager.page.get_by_test_id("status").inner_text().startswith("Acknowledged")
    manager.fill("Outcome, as the person will be told", "The officer visits you on Tuesday at 10.")
    manager.press("Resolve and tell the person")
    assert manager.page.get_by_test_id("status").inner_text().startswith("Resolved")
    fits(manager)
    manager.shot("complaint-resolved")

    manager.click_link("Complaints register", exact=True)
    row = manager.page.locator('[data-testid=complaint-register] tr[data-category="delay"]')
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    assert cells[:4] == ["1", "0", "0", "1"], cells
    fits(manager)
    manager.shot("complaint-register")

    person.click_link("Follow a complaint", exact=True)
    person.fill("Reference", reference, exact=True)
    person.fill("Code", code, exact=True)
    person.press("Show the status")
    assert person.page.get_by_test_id("status").inner_text().strip() == "Resolved"
    assert "visits you on Tuesday" in person.page.get_by_test_id("outcome").inner_text()
    assert "nobody came" not in person.text()
    fits(person)
    person.shot("complaint-followed-up")
    assert Complaint.objects.get(reference=reference).owner == world.manager


def test_a_misconduct_complaint_reaches_the_focal_point_only(world, people):
    person = people("person", viewport=PHONE)
    reference, _code = file_complaint(
        person, "Misconduct of a sexual nature or abuse of power", "A staff member asked for a favour."
    )
    manager = people("manager", viewport=PHONE)
    manager.sign_in("manager")
    manager.click_link("Complaints", exact=True)
    assert reference not in manager.text()
    focal = people("focal", viewport=PHONE)
    focal.sign_in("focal")
    assert reference in focal.text()
    focal.page.get_by_role("link", name=reference).click()
    focal.page.wait_for_load_state()
    assert focal.page.get_by_test_id("owner").inner_text().strip() == "Sara Kovač"
    focal.press("Acknowledge")
    assert focal.page.get_by_test_id("status").inner_text().startswith("Acknowledged")
    fits(focal)
