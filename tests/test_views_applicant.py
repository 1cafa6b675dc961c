"""The applicant portal through the web pages: sign-up with consent, "my applications"
with its timeline, the application form with equipment rows, documents, submit and
withdraw. An applicant never reaches another person's records (404) nor staff pages (403)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from applicants import roles
from applicants.models import Applicant, ConsentRecord
from demo.seed import tiny_pdf
from grants import services
from grants.models import AuditEvent, Document, GrantApplication

from .factories import PDF_BYTES, DocumentFactory, audit_actions

pytestmark = pytest.mark.django_db

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def signup_data(world, **overrides):
    data = {
        "first_name": "Jelena",
        "last_name": "Nikolić",
        "date_of_birth": "1988-04-12",
        "phone": "064 123 4567",
        "email": "jelena@example.test",
        "municipality": "Niš",
        "centre": str(world.centre.pk),
        "target_groups": ["returnee"],
        "household_size": "4",
        "dependants": "2",
        "password1": "a long enough secret 42",
        "password2": "a long enough secret 42",
        "consent": "on",
        "consent_return": "on",
    }
    data.update(overrides)
    return data


def form_data(**overrides):
    """The application form as a browser posts it: plan fields and two item rows."""
    data = {
        "business_name": "Tailoring Jelena",
        "sector": "crafts",
        "activity": "Sewing and mending clothes.",
        "market": "Neighbours and the market.",
        "experience": "Ten years.",
        "expected_monthly_revenue": "700",
        "expected_monthly_costs": "250",
        "jobs_planned": "1",
        "items-TOTAL_FORMS": "2",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "50",
        "items-0-description": "Sewing machine",
        "items-0-quantity": "1",
        "items-0-unit_cost": "620.00",
        "items-1-description": "Overlock machine",
        "items-1-quantity": "1",
        "items-1-unit_cost": "480.00",
    }
    data.update(overrides)
    return data


@pytest.fixture
def me(client, world):
    client.force_login(world.applicant)
    return client


class TestSignUp:
    def test_it_shows_the_consent_in_plain_words(self, client, world):
        response = client.get(reverse("signup"))
        assert response.status_code == 200
        body = response.content.decode()
        assert "We store your name, date of birth" in body
        assert "for its correction or its erasure" in body
        assert f'<option value="{world.centre.pk}">' in body

    def test_the_login_page_leads_to_it(self, client, world):
        body = client.get(reverse("login")).content.decode()
        assert f'href="{reverse("signup")}"' in body

    def test_it_creates_the_login_and_the_applicant_with_consent(self, client, world):
        response = client.post(reverse("signup"), signup_data(world))

        assert response.status_code == 302
        assert response.url == reverse("my-applications")
        user = get_user_model().objects.get(last_name="Nikolić")
        assert re.fullmatch(r"jelena-\d{4}", user.username)
        welcome = client.get(response.url).content.decode()
        assert f"Your user name is {user.username}" in welcome
        assert roles.roles_of(user) == [roles.APPLICANT]
        person = Applicant.objects.get(user=user)
        assert (person.centre, person.phone, person.is_returnee, person.household_size) == (
            world.centre,
            "+381641234567",
            True,
            4,
        )
        consent = ConsentRecord.objects.get(applicant=person, purpose="general")
        assert "We store your name" in consent.wording and not consent.on_behalf
        assert AuditEvent.objects.filter(applicant=person, action="register_applicant", actor=user).exists()
        assert client.get(reverse("my-applications")).status_code == 200

    def test_without_consent_nothing_is_stored_and_the_typing_is_kept(self, client, world):
        data = signup_data(world)
        del data["consent"]
        response = client.post(reverse("signup"), data)

        assert response.status_code == 400
        body = response.content.decode()
        assert "We can only register you if you agree." in body
        assert 'value="Nikolić"' in body
        assert 'value="jelena@example.test"' in body
        assert not get_user_model().objects.filter(last_name="Nikolić").exists()
        assert not Applicant.objects.filter(last_name="Nikolić").exists()

    def test_a_refused_registration_rolls_the_login_back(self, client, world):
        response = client.post(reverse("signup"), signup_data(world, phone="12"))

        assert response.status_code == 400
        assert "phone number" in response.content.decode()
        assert not get_user_model().objects.filter(last_name="Nikolić").exists()

    def test_mismatched_passwords_are_named(self, client, world):
        response = client.post(reverse("signup"), signup_data(world, password2="something else 42"))
        assert response.status_code == 400
        assert "The two passwords are not the same." in response.content.decode()


class TestMyApplications:
    def test_it_lists_only_my_applications_with_a_plain_timeline(self, me, world):
        mine = world.application(business_name="My bakery")
        services.take_transition(application=mine, name="submit", by=world.officer)
        world.application(applicant=world.person2, programme=world.other_programme, business_name="Not mine")

        response = me.get(reverse("my-applications"))

        body = response.content.decode()
        assert response.status_code == 200
        assert "My bakery" in body
        assert "Not mine" not in body
        assert "sent the application on your behalf" in body
        assert "officer" in body

    def test_the_list_has_a_fixed_number_of_queries(self, me, world, django_assert_max_num_queries):
        for n in range(6):
            world.application(business_name=f"Workshop {n}")
        with django_assert_max_num_queries(14):
            response = me.get(reverse("my-applications"))
        assert response.content.decode().count('class="card"') == 6

    def test_the_home_page_sends_the_applicant_to_their_applications(self, me):
        response = me.get(reverse("home"))
        assert response.url == reverse("my-applications")


class TestApplicationForm:
    def test_it_offers_the_open_programmes_first(self, me, world):
        response = me.get(reverse("application-new"))
        body = response.content.decode()
        assert world.programme.name in body
        assert world.other_programme.name not in body  # another country's programme

    def test_it_creates_a_draft_with_its_items(self, me, world):
        url = f"{reverse('application-new')}?programme={world.programme.pk}"
        assert me.get(url).status_code == 200

        response = me.post(url, form_data(programme=str(world.programme.pk)))

        application = GrantApplication.objects.get(business_name="Tailoring Jelena")
        assert response.status_code == 302
        assert response.url == reverse("application-detail", args=[application.pk])
        assert application.applicant == world.person
        assert application.state == "draft"
        assert str(application.requested_total) == "1100.00"
        assert [i.description for i in application.items.order_by("position")] == [
            "Sewing machine",
            "Overlock machine",
        ]
        assert audit_actions(application) == ["create"]

    def test_add_a_row_without_javascript_keeps_the_typing_and_saves_nothing(self, me, world):
        url = reverse("application-new")
        response = me.post(url, form_data(programme=str(world.programme.pk), add_row="1"))

        body = response.content.decode()
        assert response.status_code == 200
        assert 'value="Tailoring Jelena"' in body
        assert 'value="Overlock machine"' in body
        assert 'name="items-2-description"' in body
        assert 'name="items-TOTAL_FORMS" value="3"' in body
        assert not GrantApplication.objects.filter(business_name="Tailoring Jelena").exists()

    def test_a_blank_extra_row_is_ignored(self, me, world):
        data = form_data(programme=str(world.programme.pk), **{"items-TOTAL_FORMS": "3"})
        me.post(reverse("application-new"), data)
        assert GrantApplication.objects.get(business_name="Tailoring Jelena").items.count() == 2

    def test_a_bad_row_is_named_and_the_typing_kept(self, me, world):
        data = form_data(programme=str(world.programme.pk), **{"items-1-quantity": "0"})
        response = me.post(reverse("application-new"), data)

        body = response.content.decode()
        assert response.status_code == 400
        assert 'value="Sewing machine"' in body
        assert "errorlist" in body
        assert not GrantApplication.objects.filter(business_name="Tailoring Jelena").exists()

    def test_editing_removes_a_ticked_row(self, me, world):
        application = world.application()
        first, second = application.items.order_by("position")
        data = form_data(
            **{
                "items-TOTAL_FORMS": "2",
                "items-INITIAL_FORMS": "2",
                "items-0-id": str(first.pk),
                "items-0-description": first.description,
                "items-0-quantity": "2",
                "items-0-unit_cost": "620.00",
                "items-1-id": str(second.pk),
                "items-1-description": second.description,
                "items-1-quantity": "1",
                "items-1-unit_cost": "480.00",
                "items-1-DELETE": "on",
            }
        )
        response = me.post(reverse("application-edit", args=[application.pk]), data)

        assert response.status_code == 302
        application.refresh_from_db()
        assert [(i.pk, i.quantity) for i in application.items.all()] == [(first.pk, 2)]
        assert str(application.requested_total) == "1240.00"
        assert audit_actions(application)[-1] == "edit"

    def test_a_submitted_application_cannot_be_edited(self, me, world):
        application = world.application(submitted=True)
        response = me.get(reverse("application-edit", args=[application.pk]))
        assert response.status_code == 403
        assert "Only a draft can be edited." in response.content.decode()

    def test_the_page_carries_the_ceiling_for_the_live_total(self, me, world):
        response = me.get(f"{reverse('application-new')}?programme={world.programme.pk}")
        body = response.content.decode()
        assert 'data-ceiling="3000.00"' in body
        assert 'id="items-template"' in body
        assert re.search(r'<script src="/static/js/app\.js"', body)


class TestSubmitAndWithdraw:
    def test_it_submits_and_says_so(self, me, world):
        application = world.application()
        response = me.post(
            reverse("application-step", args=[application.pk]), {"transition": "submit"}, follow=True
        )

        application.refresh_from_db()
        assert application.state == "submitted"
        assert "Submitted" in response.content.decode()
        event = AuditEvent.objects.filter(application=application).latest("id")
        assert (event.action, event.actor) == ("submit", world.applicant)

    def test_a_rule_not_met_is_shown_and_nothing_changes(self, me, world):
        application = world.application(items=[("Tractor", 1, "25000.00")])
        page = me.get(reverse("application-detail", args=[application.pk])).content.decode()
        assert "above the programme&#x27;s ceiling" in page  # shown before trying

        response = me.post(
            reverse("application-step", args=[application.pk]), {"transition": "submit", "comment": "please"}
        )

        assert response.status_code == 400
        body = response.content.decode()
        assert "above the programme&#x27;s ceiling" in body
        assert "please</textarea>" in body
        application.refresh_from_db()
        assert application.state == "draft"

    def test_it_withdraws(self, me, world):
        application = world.application(submitted=True)
        me.post(reverse("application-step", args=[application.pk]), {"transition": "withdraw"})
        application.refresh_from_db()
        assert application.state == "withdrawn"

    def test_staff_steps_are_not_offered_and_are_refused(self, me, world):
        application = world.application(submitted=True)
        page = me.get(reverse("application-detail", args=[application.pk])).content.decode()
        assert 'value="admit_to_training"' not in page
        assert 'value="withdraw"' in page

        response = me.post(reverse("application-step", args=[application.pk]), {"transition": "reject"})
        assert response.status_code == 403
        application.refresh_from_db()
        assert application.state == "submitted"


class TestDocuments:
    def upload(self, client, application, name, content, kind="business_plan"):
        return client.post(
            reverse("document-upload", args=[application.pk]),
            {"kind": kind, "file": SimpleUploadedFile(name, content)},
        )

    def test_it_uploads_a_pdf_and_lists_it(self, me, world):
        application = world.application()
        response = self.upload(me, application, "plan.pdf", PDF_BYTES)

        assert response.status_code == 302
        document = Document.objects.get(application=application)
        assert (document.kind, document.original_name, document.uploaded_by) == (
            "business_plan",
            "plan.pdf",
            world.applicant,
        )
        page = me.get(reverse("application-detail", args=[application.pk])).content.decode()
        assert reverse("document-download-page", args=[document.pk]) in page

    def test_a_file_too_large_answers_413_with_the_limit(self, me, world, settings):
        settings.DOCUMENT_MAX_BYTES_PER_KIND = {"business_plan": 100}
        application = world.application()
        response = self.upload(me, application, "plan.pdf", PDF_BYTES + b"x" * 200)

        assert response.status_code == 413
        assert "may be at most 100" in response.content.decode()
        assert not Document.objects.filter(application=application).exists()

    def test_a_wrong_type_answers_415_naming_the_allowed_types(self, me, world):
        application = world.application()
        response = self.upload(me, application, "plan.pdf", b"MZ\x90\x00 not a pdf at all")

        assert response.status_code == 415
        body = response.content.decode()
        assert "DOCX, ODT, PDF" in body
        assert '<div role="alert"><ul class="errorlist nonfield">' in body
        assert not Document.objects.filter(application=application).exists()

    def test_a_pdf_with_a_script_answers_415_saying_why(self, me, world):
        application = world.application()
        plan = tiny_pdf(
            b"<</Type/Catalog/Pages 2 0 R/OpenAction 3 0 R>>",
            b"<</Type/Pages/Kids[]/Count 0>>",
            b"<</S/JavaScript/JS(app.alert(1))>>",
        )
        response = self.upload(me, application, "plan.pdf", plan)

        assert response.status_code == 415
        assert "This PDF contains scripts, attached files or actions" in response.content.decode()
        assert not Document.objects.filter(application=application).exists()

    def test_a_photo_is_not_a_business_plan(self, me, world):
        application = world.application()
        response = self.upload(me, application, "plan.png", PNG_BYTES)
        assert response.status_code == 415

    def test_it_downloads_my_document_as_an_attachment(self, me, world):
        document = DocumentFactory(application=world.application())
        response = me.get(reverse("document-download-page", args=[document.pk]))

        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert AuditEvent.objects.filter(action="document_downloaded", actor=world.applicant).exists()


class TestOtherPeoplesRecords:
    @pytest.fixture
    def theirs(self, world):
        return world.application(applicant=world.person2, programme=world.other_programme)

    @pytest.mark.parametrize("name", ["application-detail", "application-edit"])
    def test_another_applicants_pages_are_not_found(self, me, theirs, name):
        assert me.get(reverse(name, args=[theirs.pk])).status_code == 404

    def test_another_applicants_steps_and_uploads_are_not_found(self, me, theirs):
        assert (
            me.post(reverse("application-step", args=[theirs.pk]), {"transition": "withdraw"}).status_code
            == 404
        )
        response = me.post(
            reverse("document-upload", args=[theirs.pk]),
            {"kind": "other", "file": SimpleUploadedFile("a.pdf", PDF_BYTES)},
        )
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.state == "draft"
        assert not Document.objects.filter(application=theirs).exists()

    def test_another_applicants_document_is_not_found(self, me, theirs):
        document = DocumentFactory(application=theirs)
        assert me.get(reverse("document-download-page", args=[document.pk])).status_code == 404

    def test_a_missing_id_answers_the_same(self, me):
        assert me.get(reverse("application-detail", args=[999999])).status_code == 404

    def test_applying_for_someone_else_is_not_possible(self, me, world):
        response = me.get(
            f"{reverse('application-new')}?applicant={world.person2.pk}&programme={world.programme.pk}"
        )
        # The applicant parameter is for officers: an applicant always applies for themselves.
        assert response.status_code == 200
        assert world.person2.full_name not in response.content.decode()


class TestStaffPagesAreForbidden:
    @pytest.mark.parametrize(
        "name",
        [
            "inbox",
            "applicant-list",
            "applicant-register",
            "cohort-list",
            "cohort-new",
            "approvals",
            "programme-list",
            "finance-budget",
            "finance-deliveries",
            "finance-commitments",
            "dashboard",
        ],
    )
    def test_it_answers_403(self, me, name):
        assert me.get(reverse(name)).status_code == 403

    def test_the_menu_shows_only_the_applicant_pages(self, me):
        body = me.get(reverse("my-applications")).content.decode()
        assert reverse("my-applications") in body
        assert f'href="{reverse("inbox")}"' not in body
        assert f'href="{reverse("dashboard")}"' not in body

    def test_anonymous_visitors_are_sent_to_log_in(self, client, world):
        application = world.application()
        response = client.get(reverse("application-detail", args=[application.pk]))
        assert response.status_code == 302
        assert reverse("login") in response.url


def test_the_date_of_birth_must_be_real(client, world):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(reverse("signup"), signup_data(world, date_of_birth=future))
    assert response.status_code == 400
    assert "real date of birth" in response.content.decode()
