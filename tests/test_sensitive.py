"""Field-level protection: referral facts, return details and ethnicity reach only the
assigned field officer, the centre's managers and the person; finance and the auditor
never receive them; lists and exports mask personal data by default; the unmasked
export needs its own permission and is audited."""

import csv
import io

import pytest

from applicants import exports, roles, sensitivity
from applicants.models import WG_DOMAINS
from applicants.sensitivity import SENSITIVE_FIELDS, masked, sensitive_access
from core.errors import NotAllowed
from grants import permissions
from grants.models import AuditEvent

from .factories import ApplicantFactory, ApplicantSensitiveFactory, DocumentFactory, staff

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def facts(world):
    """Marko (centre Niš) has a referral and return details; `officer` is assigned."""
    world.application()  # assigned_officer=world.officer
    return ApplicantSensitiveFactory(applicant=world.person)


class TestWhoSeesTheFacts:
    @pytest.mark.parametrize(
        ("who", "allowed", "reason"),
        [
            ("applicant", True, ""),
            ("officer", True, ""),
            ("manager", True, ""),
            ("colleague", False, "Only the assigned field officer and the centre's managers see this."),
            ("officer2", False, "Not your centre."),
            ("finance", False, "Your role does not see sensitive facts."),
            ("auditor", False, "Your role does not see sensitive facts."),
            ("applicant2", False, "Your role does not see sensitive facts."),
        ],
    )
    def test_by_role_with_the_reason(self, world, facts, who, allowed, reason):
        user = fresh(getattr(world, who))
        got, why = sensitive_access(user, world.person)
        assert (got, str(why)) == (allowed, reason)
        app = world.person.applications.get()
        decision = permissions.can_view_sensitive(user, app)
        assert (decision.allowed, str(decision.reason)) == (allowed, reason)

    def test_the_officer_who_registered_the_person_sees_them_before_any_application(self, world):
        person = ApplicantFactory(centre=world.centre, created_by=world.colleague)
        assert sensitive_access(fresh(world.colleague), person)[0]
        assert not sensitive_access(fresh(world.officer), person)[0]

    def test_nobody_signed_out_sees_them(self, world, facts):
        from django.contrib.auth.models import AnonymousUser

        assert sensitive_access(AnonymousUser(), world.person) == (False, "Not allowed.")

    def test_the_payload_is_audited_unless_the_caller_audits_it_itself(self, world, facts):
        manager = fresh(world.manager)
        assert sensitivity.sensitive_payload(manager, world.person)["ethnicity"] == "Roma"
        assert AuditEvent.objects.filter(action="sensitive_viewed", actor=world.manager).count() == 1
        sensitivity.sensitive_payload(manager, world.person, audit=False)
        assert AuditEvent.objects.filter(action="sensitive_viewed").count() == 1

    def test_a_manager_of_another_centre_does_not(self, world, facts):
        manager = staff(roles.PROGRAMME_MANAGER, world.other_centre, username="manager-prizren")
        assert sensitive_access(manager, world.person) == (False, "Not your centre.")


class TestTheApi:
    def test_the_assigned_officer_receives_them_and_the_viewing_is_audited(self, world, facts, api):
        data = api(fresh(world.officer)).get(f"/api/v1/applicants/{world.person.pk}/").json()
        assert data["sensitive"] == {
            # The old single text stays; the list entry and the "other" name are added.
            "referral_institution": "Correctional Institution Sremska Mitrovica",
            "referral": None,
            "referral_other": "Correctional Institution Sremska Mitrovica",
            "release_month": "2025-05-01",
            "returned_from": "Germany",
            "return_date": "2024-02-01",
            "ethnicity": "Roma",
            # Not asked: no consent to the disability questions, no answers.
            **dict.fromkeys(WG_DOMAINS),
            "disability": "unknown",
            "consent_disability_at": None,
        }
        event = AuditEvent.objects.get(action="sensitive_viewed")
        assert (event.actor, event.applicant) == (world.officer, world.person)

    def test_a_colleague_gets_no_key_at_all_and_nothing_is_audited(self, world, facts, api):
        response = api(fresh(world.colleague)).get(f"/api/v1/applicants/{world.person.pk}/")
        assert response.status_code == 200
        body = response.json()
        assert "sensitive" not in body
        assert not set(body) & set(SENSITIVE_FIELDS)
        assert "Sremska" not in response.content.decode()
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()

    @pytest.mark.parametrize("who", ["finance", "auditor"])
    def test_finance_and_the_auditor_are_refused_the_record(self, world, facts, api, who):
        response = api(fresh(getattr(world, who))).get(f"/api/v1/applicants/{world.person.pk}/")
        assert response.status_code == 403
        assert "Sremska" not in response.content.decode()

    def test_the_person_reads_their_own_facts_without_an_audit_row(self, world, facts, api):
        data = api(fresh(world.applicant)).get(f"/api/v1/applicants/{world.person.pk}/").json()
        assert data["sensitive"]["ethnicity"] == "Roma"
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()


class TestDocumentsThatRevealFacts:
    def test_a_release_certificate_is_not_there_for_those_without_the_facts(self, world, facts, api):
        app = world.person.applications.get()
        plan = DocumentFactory(application=app, kind="business_plan")
        certificate = DocumentFactory(application=app, kind="release_certificate")
        listed = {
            who: {
                d["id"]
                for d in api(fresh(getattr(world, who)))
                .get(f"/api/v1/applications/{app.pk}/documents/")
                .json()["results"]
            }
            for who in ("officer", "colleague", "manager", "finance", "applicant")
        }
        assert listed == {
            "officer": {plan.pk, certificate.pk},
            "colleague": {plan.pk},
            "manager": {plan.pk, certificate.pk},
            "finance": {plan.pk},
            "applicant": {plan.pk, certificate.pk},
        }
        for who, status in (("finance", 404), ("colleague", 404), ("officer", 200)):
            response = api(fresh(getattr(world, who))).get(f"/api/v1/documents/{certificate.pk}/download/")
            assert response.status_code == status, who
        assert AuditEvent.objects.filter(action="document_downloaded").count() == 1


class TestMasking:
    def test_lists_mask_identifying_fields_and_show_the_birth_year(self, world):
        person = world.person
        assert masked(person, "first_name") == "M••••"
        assert masked(person, "last_name") == "D••••"
        assert masked(person, "date_of_birth") == "1990"
        assert masked(person, "household_size") == 1
        assert masked(person, "phone").startswith("+") and set(masked(person, "phone")[1:]) == {"•"}

    def test_short_and_missing_values_give_nothing_away(self, world):
        """At least two dots whatever the length, so that a two-letter name is not
        told apart from a longer one by its mask; nothing for a value not given."""
        person = world.person
        person.first_name, person.last_name, person.email, person.date_of_birth = "Li", "Ana", "", None
        assert (masked(person, "first_name"), masked(person, "last_name")) == ("L••", "A••")
        assert (masked(person, "email"), masked(person, "date_of_birth")) == ("", "")

    @pytest.mark.parametrize("field", SENSITIVE_FIELDS)
    def test_sensitive_fields_are_never_shown_in_a_list(self, world, field):
        with pytest.raises(ValueError, match="never shown in a list"):
            masked(world.person, field)

    def test_every_field_has_a_class(self):
        from applicants.models import Applicant, ApplicantSensitive

        personal = {"first_name", "last_name", "date_of_birth", "phone", "national_id", "email", "address"}
        assert personal <= set(sensitivity.FIELD_CLASSES)
        sensitive_columns = {f.name for f in ApplicantSensitive._meta.fields} - {"applicant"}
        stored = set(SENSITIVE_FIELDS) - set(sensitivity.DERIVED_FIELDS)
        assert sensitive_columns == stored | set(sensitivity.REVIEW_FIELDS)
        assert not {f.name for f in Applicant._meta.fields} & set(SENSITIVE_FIELDS)


def read_csv(text):
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


class TestExports:
    def test_the_default_export_is_masked_and_has_no_sensitive_or_group_columns(self, world, facts):
        other = ApplicantFactory(centre=world.other_centre, last_name="Elsewhere")
        rows = read_csv(exports.export_applicants_csv(by=fresh(world.officer)))
        header, body = rows[0], rows[1:]
        assert not set(header) & set(SENSITIVE_FIELDS)
        assert "target_groups" not in header and "is_former_inmate" not in header
        assert [row[0] for row in body] == [str(world.person.pk)]  # only their centre's
        row = dict(zip(header, body[0], strict=True))
        assert (row["first_name"], row["last_name"], row["date_of_birth"]) == ("M••••", "D••••", "1990")
        assert str(other.pk) not in {r[0] for r in body}
        event = AuditEvent.objects.get(action="applicants_exported")
        assert (event.actor, event.data["rows"], event.data["masked"]) == (world.officer, 1, True)

    def test_the_personal_export_needs_its_own_permission(self, world, facts):
        with pytest.raises(NotAllowed, match="its own permission"):
            exports.export_applicants_csv(by=fresh(world.officer), personal=True)
        assert not AuditEvent.objects.filter(action="personal_data_exported").exists()

        rows = read_csv(exports.export_applicants_csv(by=fresh(world.manager), personal=True))
        row = dict(zip(rows[0], rows[1], strict=True))
        assert (row["first_name"], row["last_name"], row["date_of_birth"]) == ("Marko", "Demić", "1990-03-02")
        assert "Sremska" not in "".join(",".join(r) for r in rows)
        event = AuditEvent.objects.get(action="personal_data_exported")
        assert (event.actor, event.data["rows"], event.data["masked"]) == (world.manager, 2, False)

    @pytest.mark.parametrize("who", ["finance", "auditor", "applicant"])
    def test_roles_without_personal_data_export_nothing(self, world, who):
        for personal in (False, True):
            with pytest.raises(NotAllowed):
                exports.applicant_rows(by=fresh(getattr(world, who)), personal=personal)
        assert not AuditEvent.objects.exists()

    def test_cells_never_become_spreadsheet_formulas(self, world):
        ApplicantFactory(centre=world.centre, first_name='=HYPERLINK("x")', last_name="Test")
        text = exports.export_applicants_csv(by=fresh(world.manager), personal=True)
        assert "'=HYPERLINK" in text
        assert ",+3816400" in text  # phone numbers stay as they are


class TestTheAuditTrail:
    @pytest.fixture
    def trail(self, world):
        from grants import services

        app = world.application()
        services.take_transition(application=app, name="submit", by=world.officer)
        services.take_transition(
            application=app, name="return_for_changes", by=world.officer, comment="Marko, add a quote."
        )
        services.take_transition(application=app, name="withdraw", by=world.applicant)
        elsewhere = world.application(applicant=world.person2, programme=world.other_programme)
        services.take_transition(application=elsewhere, name="submit", by=world.applicant2)
        return app, elsewhere

    def test_the_auditor_reads_their_centres_trail_without_personal_data(self, world, trail, api):
        app, elsewhere = trail
        auditor = staff(roles.AUDITOR, world.centre, username="auditor-niš")
        response = api(auditor).get("/api/v1/audit-events/")
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [(r["action"], r["actor"], r["application"]) for r in rows] == [
            ("withdraw", "the applicant", app.pk),
            ("return_for_changes", "officer", app.pk),
            ("submit", "officer", app.pk),
        ]
        assert set(rows[0]) == {"id", "at", "actor", "action", "application", "from_state", "to_state"}
        for personal in ("Marko", "Demić", "quote", world.applicant.username):
            assert personal not in response.content.decode()

    def test_a_manager_reads_names_comments_and_on_whose_behalf(self, world, trail, api):
        app, _elsewhere = trail
        rows = api(fresh(world.manager)).get(f"/api/v1/audit-events/?application={app.pk}").json()["results"]
        assert [(r["action"], r["actor"], r["on_behalf_of"], r["comment"]) for r in rows] == [
            ("withdraw", world.applicant.username, None, ""),
            ("return_for_changes", "officer", None, "Marko, add a quote."),
            ("submit", "officer", "Marko Demić", ""),
        ]

    @pytest.mark.parametrize("who", ["finance", "applicant"])
    def test_roles_that_do_not_read_the_trail_are_refused(self, world, trail, api, who):
        response = api(fresh(getattr(world, who))).get("/api/v1/audit-events/")
        assert response.status_code == 403
        assert "results" not in response.json()

    def test_filters(self, world, trail, api):
        app, elsewhere = trail
        client = api(fresh(world.manager))
        assert [r["action"] for r in client.get("/api/v1/audit-events/?action=submit").json()["results"]] == [
            "submit",
            "submit",
        ]
        assert client.get(f"/api/v1/audit-events/?application={elsewhere.pk}").json()["count"] == 1
        assert client.get("/api/v1/audit-events/?application=abc").json()["count"] == 0
