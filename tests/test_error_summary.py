"""Errors in sight: after a failed submit on any form, an error summary first thing in the
page (core/error_summary.py, rendered by base.html), each field's error linked to its
field, and the form keeps what was typed."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.error_summary import summary_lines
from grants.forms import DocumentForm

from .conftest import verified_login
from .factories import EnrolmentFactory, TrainingCohortFactory, TrainingSessionFactory, staff, today

pytestmark = pytest.mark.django_db

OPENING = '<div class="error-summary" id="error-summary" role="alert" tabindex="-1" data-testid="error-summary" autofocus>'


def summary(response):
    """The summary's html; it comes before the page's own content (its <h1>)."""
    html = response.content.decode()
    assert html.count(' id="error-summary"') == 1, "no error summary (or two)"
    start = html.index(OPENING)
    assert start < html.index("<h1", html.index("<main"))
    return html[start : html.index("</div>", start)]


def links(html):
    return re.findall(r'<a href="#([^"]+)">', html)


def assert_no_summary(response):
    assert ' id="error-summary"' not in response.content.decode()


def test_no_summary_on_a_page_without_errors(client, world):
    verified_login(client, world.officer)

    assert_no_summary(client.get(reverse("applicant-register")))


def test_sign_up_with_an_empty_form(client, world):
    response = client.post(reverse("signup"), {})

    assert response.status_code == 400
    found = links(summary(response))
    assert "id_first_name" in found
    assert "id_password1" in found
    # A group of checkboxes is linked by its first box.
    assert "id_target_groups_0" in found
    # Every linked field is on the page.
    html = response.content.decode()
    assert all(f'id="{target}"' in html for target in found)


def test_sign_up_keeps_what_was_typed(client, world):
    response = client.post(reverse("signup"), {"first_name": "Jelena", "last_name": "Petrović"})

    summary(response)
    html = response.content.decode()
    assert 'value="Jelena"' in html
    assert 'value="Petrović"' in html


def test_registration_by_an_officer(client, world):
    verified_login(client, world.officer)

    response = client.post(reverse("applicant-register"), {"first_name": "Ana"})

    found = links(summary(response))
    assert "id_last_name" in found
    assert 'value="Ana"' in response.content.decode()


def test_application_form_links_the_missing_name_and_keeps_the_rest(client, world):
    application = world.application()
    verified_login(client, world.applicant)

    response = client.post(
        reverse("application-edit", args=[application.pk]),
        {
            "business_name": "",
            "sector": "crafts",
            "market": "The neighbours on my street",
            "jobs_planned": "1",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
        },
    )

    assert "id_business_name" in links(summary(response))
    assert "The neighbours on my street" in response.content.decode()


def test_a_refused_upload_shows_its_error_at_the_top_of_the_application_page(client, world):
    application = world.application(approved=True)
    verified_login(client, world.officer)

    response = client.post(
        reverse("document-upload", args=[application.pk]),
        {
            "kind": "handover_protocol",
            "file": SimpleUploadedFile("virus.exe", b"MZ\x90\x00binary", "application/pdf"),
        },
    )

    assert response.status_code in (400, 415)
    html = response.content.decode()
    block = summary(response)
    # Before the next-step panel and every section of the page.
    assert html.index(OPENING) < html.index('data-testid="next-step"')
    assert "<li>" in block


def test_an_upload_without_a_file_links_the_file_field(client, world):
    application = world.application(approved=True)
    verified_login(client, world.officer)

    response = client.post(reverse("document-upload", args=[application.pk]), {"kind": "handover_protocol"})

    assert "id_file" in links(summary(response))


def test_assessment_without_scores(client, world):
    application = world.application(training=True)
    verified_login(client, world.officer)

    response = client.post(
        reverse("assessment-form", args=[application.pk]), {"reasons": "Visited the workshop."}
    )

    block = summary(response)
    assert links(block)
    assert "Visited the workshop." in response.content.decode()


def test_a_visit_too_early_says_so_at_the_top_and_keeps_the_values(client, world):
    application = world.application(follow_up=True)
    visit = application.visits.order_by("-months").first()
    verified_login(client, world.officer)

    response = client.post(
        reverse("visit-form", args=[visit.pk]),
        {"visited_on": today().isoformat(), "operating": "on", "jobs_owner": "1", "notes": "Busy morning."},
    )

    assert response.status_code == 400
    summary(response)
    assert "Busy morning." in response.content.decode()


def test_a_visit_without_a_date_links_the_date(client, world):
    application = world.application(follow_up=True)
    visit = application.visits.order_by("months").first()
    verified_login(client, world.officer)

    response = client.post(reverse("visit-form", args=[visit.pk]), {"visited_on": ""})

    assert "id_visited_on" in links(summary(response))


def test_a_delivery_without_a_date_or_invoice(client, world):
    application = world.application(approved=True)
    verified_login(client, world.finance)

    response = client.post(reverse("delivery-new", args=[application.pk]), {"supplier": "Tehno Alat"})

    found = links(summary(response))
    assert "id_delivered_on" in found
    assert 'value="Tehno Alat"' in response.content.decode()


def test_cost_reapproval_without_a_reason(client, world):
    application = world.application(approved=True)
    verified_login(client, world.manager)

    response = client.post(reverse("application-cost-reapproval", args=[application.pk]), {"limit": "999"})

    assert "id_reason" in links(summary(response))
    assert 'value="999"' in response.content.decode()


def test_a_new_training_course_without_a_title(client, world):
    verified_login(client, world.officer)

    response = client.post(
        reverse("cohort-new"),
        {
            "title": "",
            "sessions-TOTAL_FORMS": "0",
            "sessions-INITIAL_FORMS": "0",
            "sessions-MIN_NUM_FORMS": "0",
            "sessions-MAX_NUM_FORMS": "1000",
        },
    )

    assert "id_title" in links(summary(response))


def test_attendance_refused_on_the_course_page(client, world):
    application = world.application(submitted=True)
    cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre, sessions=0)
    future = TrainingSessionFactory(cohort=cohort, date=today() + datetime.timedelta(days=3))
    enrolment = EnrolmentFactory(cohort=cohort, application=application)
    verified_login(client, world.officer)

    response = client.post(
        reverse("cohort-attendance", args=[cohort.pk]), {f"present-{enrolment.pk}-{future.pk}": "on"}
    )

    assert response.status_code == 400
    assert "Attendance is recorded on or after the day of the session." in summary(response)


def test_a_supplier_without_a_name(client, world):
    verified_login(client, world.procurement)

    response = client.post(reverse("procurement-supplier-new"), {"name": "", "address": "Niš"})

    assert "id_name" in links(summary(response))
    assert 'value="Niš"' in response.content.decode()


def test_a_refused_contribution_payment_is_at_the_top(client, world):
    application = world.application(approved=True)
    verified_login(client, world.manager)

    response = client.post(
        reverse("contribution-new-page", args=[application.pk]), {"amount": "-5"}, follow=True
    )

    # Back on the application page, at its top (not at the contract's anchor).
    assert response.redirect_chain[-1][0] == reverse("application-detail", args=[application.pk])
    summary(response)


def test_sign_in_with_a_wrong_password(client, world):
    response = client.post(reverse("login"), {"username": "officer", "password": "wrong"})

    summary(response)
    assert 'value="officer"' in response.content.decode()


def test_each_form_is_listed_once_and_hidden_fields_without_a_link(world):
    form = DocumentForm({"kind": "nonsense"}, kinds=["other"])
    assert not form.is_valid()

    lines = summary_lines([form, form])

    assert [line["href"] for line in lines] == ["#id_kind", "#id_file"]


def test_the_summary_is_translated(client, world):
    response = client.post(reverse("signup"), {}, HTTP_ACCEPT_LANGUAGE="sq")

    assert "This could not be done" not in summary(response)


def test_a_staff_member_of_another_role_gets_no_form(client, world):
    other = staff("auditor", world.centre, username="auditor-b")
    verified_login(client, other)

    response = client.post(reverse("applicant-register"), {})

    assert response.status_code == 403


def test_dates_in_summary_pages_are_iso_kept(client, world):
    application = world.application(approved=True)
    verified_login(client, world.finance)
    day = (today() + datetime.timedelta(days=400)).isoformat()

    response = client.post(reverse("delivery-new", args=[application.pk]), {"delivered_on": day})

    summary(response)
    assert f'value="{day}"' in response.content.decode()
