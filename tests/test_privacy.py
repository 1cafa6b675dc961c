"""Data-subject rights: one person's data and documents in one ZIP (manager's page and
`manage.py export_applicant`), erasure by pseudonymisation that leaves money and figures
as they were, the retention rule, consent with its wording, and audited viewing of the
sensitive section."""

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import roles, sensitivity, service_accounts
from applicants.models import Applicant, ApplicantSensitive, ConsentRecord, DuplicateFlag
from applicants.services import register_applicant
from audit import trail
from grants import services
from grants.models import AuditEvent, Commitment, DeliveryLine, Document, GrantApplication, Notification
from integrations.models import FormSubmission, IdempotentRequest
from privacy import subjects

from .conftest import verified_login
from .factories import (
    ApplicantFactory,
    ApplicantSensitiveFactory,
    DocumentFactory,
    DuplicateFlagFactory,
    api_key,
    staff,
)
from .test_kobo_intake import kobo_submission

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(world):
    """Marko, a returnee with sensitive facts, one completed grant with documents."""
    ApplicantSensitiveFactory(applicant=world.person, ethnicity="Roma", referral_other="KPZ Niš")
    application = world.application(completed=True, business_name="Marko's Tailoring")
    DocumentFactory(application=application, kind="id_document", original_name="passport.pdf")
    return world.person


def read_zip(content):
    archive = zipfile.ZipFile(io.BytesIO(content))
    return archive, json.loads(archive.read("data.json"))


class TestConsent:
    def test_registration_stores_the_consent_wording_time_and_language(self, world):
        applicant = register_applicant(
            by=world.officer,
            first_name="Vesna",
            last_name="Ristić",
            date_of_birth=timezone.localdate().replace(year=1988),
            centre=world.centre,
            target_groups=["returnee"],
            phone="+381641112223",
            language="en",
            consent_given=True,
            special_consents=["return"],
        )
        consent = ConsentRecord.objects.get(applicant=applicant, purpose="general")
        assert "We store your name" in consent.wording
        assert "never your name" in consent.wording
        assert consent.language == "en" and consent.version
        assert abs(consent.given_at - timezone.now()) < timedelta(minutes=1)
        assert consent.recorded_by == world.officer and consent.on_behalf
        special = ConsentRecord.objects.get(applicant=applicant, purpose="return")
        assert "returned from abroad" in special.wording and special.version == consent.version


class TestExport:
    def test_a_manager_downloads_everything_about_one_person(self, world, person, client):
        verified_login(client, world.manager)
        response = client.get(f"/applicants/{person.pk}/export.zip")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert f'filename="applicant-{person.pk}.zip"' in response["Content-Disposition"]
        assert response["Cache-Control"] == "private, no-store"
        archive, data = read_zip(b"".join(response.streaming_content))
        assert data["applicant"]["first_name"] == "Marko"
        assert data["applicant"]["phone"] == person.phone
        assert data["sensitive"]["ethnicity"] == "Roma"
        assert data["sensitive"]["referral_institution"] == "KPZ Niš"
        assert data["consents"][0]["wording"] == "I agree."
        assert data["account"]["username"] == world.applicant.username
        [application] = data["applications"]
        assert application["business_name"] == "Marko's Tailoring"
        assert application["state"] == "completed"
        assert {i["description"] for i in application["items"]} == {
            "Industrial sewing machine",
            "Overlock machine",
        }
        assert application["deliveries"][0]["lines"]
        assert [v["months"] for v in application["visits"]] == [3, 6, 12]
        assert application["assessments"][0]["recommendation"] == "approve"
        documents = Document.objects.filter(application__applicant=person).order_by("id")
        assert len(application["documents"]) == documents.count() == 2
        by_id = sorted(application["documents"], key=lambda meta: meta["id"])
        for meta, document in zip(by_id, documents, strict=True):
            with default_storage.open(document.file.name, "rb") as stored:
                assert archive.read(meta["file"]) == stored.read()
        assert "README.txt" in archive.namelist()
        event = AuditEvent.objects.get(action="personal_data_exported")
        assert (event.actor, event.applicant, event.data["documents"]) == (world.manager, person, 2)

    @pytest.mark.parametrize(("role", "status"), [("officer", 403), ("finance", 404), ("auditor", 404)])
    def test_other_staff_of_the_centre_cannot(self, world, person, client, role, status):
        verified_login(client, getattr(world, role))
        assert client.get(f"/applicants/{person.pk}/export.zip").status_code == status
        assert not AuditEvent.objects.filter(action="personal_data_exported").exists()

    def test_a_manager_of_another_centre_gets_404(self, world, person, client):
        elsewhere = staff(roles.PROGRAMME_MANAGER, world.other_centre, username="manager_prizren")
        verified_login(client, elsewhere)
        assert client.get(f"/applicants/{person.pk}/export.zip").status_code == 404

    def test_the_person_themselves_and_strangers_get_404(self, world, person, client):
        verified_login(client, world.applicant2)
        assert client.get(f"/applicants/{person.pk}/export.zip").status_code == 404
        verified_login(client, world.applicant)
        assert client.get(f"/applicants/{person.pk}/export.zip").status_code == 404
        client.logout()
        response = client.get(f"/applicants/{person.pk}/export.zip")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    def test_the_command_writes_the_zip(self, world, person, tmp_path):
        out = tmp_path / "marko.zip"
        stdout = io.StringIO()
        call_command("export_applicant", str(person.pk), "--out", str(out), "--by", "manager", stdout=stdout)
        assert "2 document(s)" in stdout.getvalue()
        _archive, data = read_zip(out.read_bytes())
        assert data["applicant"]["id"] == person.pk
        event = AuditEvent.objects.get(action="personal_data_exported")
        assert event.actor == world.manager and event.data["via"] == "command"

    def test_the_command_names_a_wrong_id(self, db, tmp_path):
        with pytest.raises(CommandError, match="No applicant with id 999"):
            call_command("export_applicant", "999", "--out", str(tmp_path / "x.zip"))

    def test_a_missing_stored_file_is_listed_not_fatal(self, world, person, tmp_path):
        document = Document.objects.filter(application__applicant=person).first()
        default_storage.delete(document.file.name)
        archive, data = read_zip(subjects.export_bytes(person, by=world.manager))
        assert str(document.pk) in archive.read("MISSING.txt").decode()
        assert data["applicant"]["first_name"] == "Marko"
        event = AuditEvent.objects.get(action="personal_data_exported")
        assert event.data["missing"] == [document.pk] and event.data["documents"] == 1


class TestErasure:
    def test_it_pseudonymises_and_keeps_money_and_figures(
        self, world, person, django_capture_on_commit_callbacks
    ):
        application = person.applications.get()
        DuplicateFlagFactory(applicant=ApplicantFactory(centre=world.centre), other=person)
        Notification.objects.create(
            key="n1", recipient=world.applicant, email=person.email, subject="Marko", body="Dear Marko"
        )
        stored = list(Document.objects.filter(application=application).values_list("file", flat=True))
        committed_before = world.programme.committed_amount()
        delivered_before = sum(DeliveryLine.objects.values_list("amount", flat=True))
        items_before = list(application.items.values_list("description", "quantity", "unit_cost"))
        username = world.applicant.username

        with django_capture_on_commit_callbacks(execute=True):
            call_command("erase_applicant", str(person.pk), "--by", "manager", stdout=io.StringIO())

        person.refresh_from_db()
        assert (person.first_name, person.last_name) == ("Erased", f"applicant {person.pk}")
        assert person.phone == person.national_id == person.email == person.address == ""
        assert person.date_of_birth.month == person.date_of_birth.day == 1
        assert person.pseudonymised_at is not None
        assert person.is_returnee and person.household_size >= 1
        assert not ApplicantSensitive.objects.filter(applicant=person).exists()
        assert not DuplicateFlag.objects.filter(other=person).exists()
        assert ConsentRecord.objects.get(applicant=person).withdrawn_at is not None
        application.refresh_from_db()
        assert application.business_name == f"Crafts business #{application.pk}"
        assert application.activity == application.market == application.experience == ""
        assert application.state == "completed"
        assert application.assessments.get().reasons == ""
        # Money and figures as they were.
        assert list(application.items.values_list("description", "quantity", "unit_cost")) == items_before
        assert world.programme.committed_amount() == committed_before
        assert sum(DeliveryLine.objects.values_list("amount", flat=True)) == delivered_before
        assert Commitment.objects.filter(application=application).exists()
        assert application.visits.filter(operating=True).count() == 3
        # Documents gone from the database and from storage.
        assert not Document.objects.filter(application=application).exists()
        assert stored and not any(default_storage.exists(name) for name in stored)
        # The account is closed and scrubbed.
        account = type(world.applicant).objects.get(pk=world.applicant.pk)
        assert not account.is_active and not account.has_usable_password()
        assert account.username == f"erased-{account.pk}" and account.email == ""
        notification = Notification.objects.get(key="n1")
        assert (notification.email, notification.body) == ("", "(erased)")
        event = AuditEvent.objects.get(action="applicant_pseudonymised")
        assert event.actor == world.manager and event.data["documents_deleted"] == 2
        exported = subjects.applicant_data(person)
        assert exported["account"]["username"] == f"erased-{account.pk}"
        assert username not in str(exported["applicant"])
        # The trail still verifies: erasure appends, it never edits history.
        assert trail.verify_chain()[2] == []

    def test_it_removes_the_texts_beside_the_trail_and_the_export_says_erased(self, world, person):
        app = world.application(submitted=True)
        services.take_transition(
            application=app, name="withdraw", by=world.applicant, comment="Marko: I move to Vienna."
        )
        other = trail.record(action="note", actor=world.officer, comment="About someone else.")
        subjects.erase_applicant(applicant=person, by=world.manager, reason="Marko Demić asked.")
        withdrawal = AuditEvent.objects.select_related("free_text").get(application=app, action="withdraw")
        assert withdrawal.comment == "(erased)" and withdrawal.text_digest
        assert (
            AuditEvent.objects.select_related("free_text").get(pk=other.pk).comment == "About someone else."
        )
        history = subjects.applicant_data(person)["history"]
        assert [h["comment"] for h in history if h["action"] == "withdraw"] == ["(erased)"]
        assert history[-1]["comment"] == "(erased) (erased) asked."
        assert trail.verify_chain()[2] == []

    def test_it_refuses_while_an_application_is_open(self, world, person):
        open_one = world.application(submitted=True)
        with pytest.raises(CommandError, match=f"#{open_one.pk}"):
            call_command("erase_applicant", str(person.pk), stdout=io.StringIO())
        person.refresh_from_db()
        assert person.first_name == "Marko" and person.pseudonymised_at is None
        assert ApplicantSensitive.objects.filter(applicant=person).exists()
        assert not AuditEvent.objects.filter(action="applicant_pseudonymised").exists()

    def test_it_refuses_twice(self, world, person):
        call_command("erase_applicant", str(person.pk), stdout=io.StringIO())
        with pytest.raises(CommandError, match="already erased"):
            call_command("erase_applicant", str(person.pk), stdout=io.StringIO())
        assert AuditEvent.objects.filter(action="applicant_pseudonymised").count() == 1

    def test_the_reports_count_the_same_after_erasure(self, world, person, api):
        client = api(world.manager)
        before = client.get("/api/v1/reports/impact/").json()
        budget_before = client.get("/api/v1/reports/budget/").json()
        call_command("erase_applicant", str(person.pk), stdout=io.StringIO())
        assert client.get("/api/v1/reports/impact/").json() == before
        assert client.get("/api/v1/reports/budget/").json() == budget_before


class TestRetention:
    @pytest.fixture
    def people(self, world, settings):
        settings.RETENTION_DAYS = 30
        long_ago = timezone.now() - timedelta(days=40)

        def person_with(state=None, *, closed_days_ago=None, **kwargs):
            applicant = ApplicantFactory(centre=world.centre, **kwargs)
            Applicant.objects.filter(pk=applicant.pk).update(created_at=long_ago)
            if state:
                app = world.application(applicant=applicant, **{state: True})
                if closed_days_ago is not None:
                    GrantApplication.objects.filter(pk=app.pk).update(
                        closed_at=timezone.now() - timedelta(days=closed_days_ago)
                    )
            return applicant

        return {
            "ended_long_ago": person_with("completed", closed_days_ago=40),
            "ended_recently": person_with("completed", closed_days_ago=10),
            "still_open": person_with("approved"),
            "never_applied": person_with(),
            "new": ApplicantFactory(centre=world.centre),
        }

    def test_a_dry_run_lists_without_changing(self, people):
        stdout = io.StringIO()
        call_command("apply_retention", "--dry-run", stdout=stdout)
        due = {people["ended_long_ago"].pk, people["never_applied"].pk}
        assert set(subjects.retention_due().values_list("pk", flat=True)) == due
        assert "Would pseudonymise 2 applicant(s)" in stdout.getvalue()
        assert not Applicant.objects.filter(pseudonymised_at__isnull=False).exists()

    def test_it_pseudonymises_only_those_whose_grants_ended_long_ago(self, people):
        stdout = io.StringIO()
        call_command("apply_retention", stdout=stdout)
        erased = set(Applicant.objects.filter(pseudonymised_at__isnull=False).values_list("pk", flat=True))
        assert erased == {people["ended_long_ago"].pk, people["never_applied"].pk}
        assert "Pseudonymised 2 applicant(s) (retention 30 days)" in stdout.getvalue()
        events = AuditEvent.objects.filter(action="applicant_pseudonymised")
        assert events.count() == 2 and all("Retention" in e.comment for e in events)
        # Running it again finds nobody new.
        call_command("apply_retention", stdout=stdout)
        assert AuditEvent.objects.filter(action="applicant_pseudonymised").count() == 2


class TestSensitiveSection:
    def test_viewing_it_in_a_page_is_audited(self, world, person):
        rows = sensitivity.sensitive_section(world.manager, person)
        assert ("ethnicity (optional self-identification)", "Roma") in [(str(k), v) for k, v in rows]
        event = AuditEvent.objects.get(action="sensitive_viewed")
        assert (event.actor, event.applicant) == (world.manager, person)

    @pytest.mark.parametrize("role", ["finance", "auditor", "colleague"])
    def test_those_who_may_not_see_it_get_nothing_and_no_event(self, world, person, role):
        assert sensitivity.sensitive_section(getattr(world, role), person) is None
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()

    def test_the_person_sees_their_own_without_an_audit_row(self, world, person):
        assert sensitivity.sensitive_section(world.applicant, person)
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()


class TestCopiesOutsideTheRecord:
    """What other parts keep about a person goes with the erasure (applicants.signals)."""

    def test_a_form_servers_submission_keeps_its_instance_id_not_its_answers(self, world, person):
        _account, key = service_accounts.create_service_account(
            by=world.manager, name="Kobo Niš", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        application = person.applications.get()
        body = kobo_submission(application.pk, notes="Marko says his brother took the machine.")
        assert client.post("/api/v1/intake/kobo/", body, format="json").json()["status"] == "refused"

        subjects.erase_applicant(applicant=person, by=world.manager, reason="Asked.")

        submission = FormSubmission.objects.get()
        assert submission.payload == {"erased": True}
        assert "Marko" not in json.dumps(submission.payload) and submission.reason == ""
        assert submission.status == FormSubmission.Status.DISMISSED
        assert submission.resolved_by == world.manager
        # Sent again by the form server: recognised by its instance id, not applied.
        again = client.post("/api/v1/intake/kobo/", body, format="json")
        assert again.status_code == 422 and again.json()["code"] == "submission_dismissed"
        assert "Marko" not in again.content.decode() and "brother" not in again.content.decode()
        assert FormSubmission.objects.get().times_posted == 2
        assert FormSubmission.objects.get().payload == {"erased": True}

    def test_stored_answers_about_the_person_no_longer_name_them_and_still_replay(self, world, person):
        officer = APIClient()
        officer.credentials(HTTP_AUTHORIZATION=f"Token {api_key(world.officer)}")
        registered = {
            "first_name": "Vesna",
            "last_name": "Ristić",
            "date_of_birth": "1988-04-02",
            "centre": world.centre.pk,
            "target_groups": ["returnee"],
            "phone": "+381641112223",
            "consent_given": True,
            "special_consents": ["return"],
        }
        other = dict(registered, first_name="Jelena", last_name="Marić", phone="+381641112299")
        first = officer.post("/api/v1/applicants/", registered, format="json", HTTP_IDEMPOTENCY_KEY="vesna-1")
        kept = officer.post("/api/v1/applicants/", other, format="json", HTTP_IDEMPOTENCY_KEY="jelena-1")
        assert first.status_code == kept.status_code == 201, (first.content, kept.content)
        vesna = Applicant.objects.get(pk=first.json()["id"])

        subjects.erase_applicant(applicant=vesna, by=world.manager, reason="Asked.")

        stored = IdempotentRequest.objects.get(key="vesna-1")
        assert b"Vesna" not in bytes(stored.body) and b"+381641112223" not in bytes(stored.body)
        again = officer.post("/api/v1/applicants/", registered, format="json", HTTP_IDEMPOTENCY_KEY="vesna-1")
        assert again.status_code == 201 and again.json()["code"] == "erased"
        assert Applicant.objects.filter(phone="+381641112223").count() == 0
        assert Applicant.objects.filter(last_name="Ristić").count() == 0
        # Someone else's stored answer is left as it was.
        assert "Jelena" in bytes(IdempotentRequest.objects.get(key="jelena-1").body).decode()
