"""The referring institution chosen from a list, "other" short and warned against, and
the migration that moved the old free text into the list without losing any of it."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from applicants import referral_institutions, roles, services
from applicants.models import ApplicantSensitive
from applicants.referral_institutions import OTHER_MAX_LENGTH, looks_like_story, match_key, sort_legacy_value
from core.errors import ServiceError
from grants.models import AuditEvent

from .conftest import verified_login
from .factories import ApplicantSensitiveFactory, ReferralInstitutionFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def prison():
    return ReferralInstitutionFactory(name="Sremska Mitrovica Correctional Institution")


def register(world, sensitive, **extra):
    return services.register_applicant(
        by=world.officer,
        first_name="Dragan",
        last_name="Petrović",
        date_of_birth=datetime.date(1988, 4, 2),
        centre=world.centre,
        target_groups=["former_inmate"],
        consent_given=True,
        special_consents=["prison"],
        sensitive=sensitive,
        **extra,
    )


# ---- the sorting rule the migration applies --------------------------------------------


class TestSortingOldValues:
    ENTRIES = {match_key("Sremska Mitrovica Correctional Institution"): 7}

    def test_it_matches_a_list_entry_whatever_the_case_and_spacing(self):
        assert sort_legacy_value("  sremska   MITROVICA correctional institution ", self.ENTRIES) == (
            7,
            "",
            "",
        )

    def test_a_short_name_not_on_the_list_becomes_other(self):
        assert sort_legacy_value("KPZ Niš", self.ENTRIES) == (None, "KPZ Niš", "")

    def test_a_long_name_is_cut_for_other_and_kept_whole_for_review(self):
        text = "Social service of the municipality of Sremska Mitrovica, department for adults and families"
        entry, other, review = sort_legacy_value(text, self.ENTRIES)
        assert entry is None and len(other) <= OTHER_MAX_LENGTH and other.endswith("…")
        assert review == text

    def test_a_story_goes_to_review_only(self):
        text = "KPZ Niš, served 3 years for theft"
        assert sort_legacy_value(text, self.ENTRIES) == (None, "", text)

    @pytest.mark.parametrize(
        "text",
        ["osuđen zbog krađe", "dënuar për vjedhje", "convicted of robbery", "after 2 godine in prison"],
    )
    def test_stories_in_each_language_are_recognised(self, text):
        assert looks_like_story(text)

    @pytest.mark.parametrize(
        "text",
        ["Kazneno-popravni zavod Niš", "Povereništvo Niš", "Centar za socijalni rad Prizren", "KPZ Niš"],
    )
    def test_institution_names_are_not_stories(self, text):
        assert not looks_like_story(text)

    def test_blank_stays_blank(self):
        assert sort_legacy_value("   ", self.ENTRIES) == (None, "", "")


# (unapplying migrations on SQLite fails in Django's table rebuild: see
# tests/test_audit_migration.py; PostgreSQL runs it)
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_old_value_and_loses_none():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # (with the sibling migrations of the same parents still applied: their columns exist)
    before = [
        ("applicants", "0019_referral_institution_list"),
        ("applicants", "0019_applicant_updated_at"),
        ("applicants", "0019_institutions_and_their_contacts"),
    ]
    after = [("applicants", "0021_remove_free_text_referral")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    country = old.get_model("applicants", "Country").objects.create(code="RS", name="Serbia")
    centre = old.get_model("applicants", "IntegrationCentre").objects.create(country=country, name="Niš")
    Person = old.get_model("applicants", "Applicant")
    Sensitive = old.get_model("applicants", "ApplicantSensitive")
    long_name = "Social service of the municipality of Sremska Mitrovica, department for adults and families"
    values = {
        "listed": "  POVERENIŠTVO  niš ",
        "other": "KPZ Niš",
        "long": long_name,
        "story": "Niš prison, sentenced for drug dealing",
        "blank": "",
    }
    ids = {}
    for key, text in values.items():
        person = Person.objects.create(
            first_name=key,
            last_name="X",
            date_of_birth=datetime.date(1990, 1, 1),
            centre=centre,
            is_former_inmate=True,
        )
        Sensitive.objects.create(applicant=person, referral_institution=text)
        ids[key] = person.pk

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    rows = {
        key: new.get_model("applicants", "ApplicantSensitive")
        .objects.select_related("referral")
        .get(applicant=pk)
        for key, pk in ids.items()
    }
    assert rows["listed"].referral.name == "Povereništvo Niš" and rows["listed"].referral_other == ""
    assert (rows["other"].referral_id, rows["other"].referral_other, rows["other"].referral_review) == (
        None,
        "KPZ Niš",
        "",
    )
    assert len(rows["long"].referral_other) <= OTHER_MAX_LENGTH and rows["long"].referral_review == long_name
    assert (rows["story"].referral_other, rows["story"].referral_review) == ("", values["story"])
    assert (rows["blank"].referral_id, rows["blank"].referral_other, rows["blank"].referral_review) == (
        None,
        "",
        "",
    )
    # Going back puts every text back, the whole one where it was kept for review.
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    back = executor.loader.project_state(before).apps.get_model("applicants", "ApplicantSensitive")
    texts = dict(back.objects.values_list("applicant_id", "referral_institution"))
    assert texts[ids["long"]] == long_name and texts[ids["story"]] == values["story"]
    assert texts[ids["listed"]] == "Povereništvo Niš" and texts[ids["other"]] == "KPZ Niš"
    executor = MigrationExecutor(connection)
    executor.migrate(latest)


# ---- registration: service, API, form, import --------------------------------------------


class TestRegistration:
    def test_it_stores_the_chosen_entry(self, world, prison):
        person = register(world, {"referral": prison.pk, "release_month": datetime.date(2025, 4, 1)})
        facts = ApplicantSensitive.objects.get(applicant=person)
        assert (facts.referral, facts.referral_other, facts.referral_institution) == (prison, "", prison.name)
        event = AuditEvent.objects.get(action="register_applicant", applicant=person)
        assert "referral" in event.data["sensitive_fields"]

    def test_other_needs_a_name_and_refuses_a_story(self, world):
        with pytest.raises(ServiceError) as refused:
            register(world, {"referral": referral_institutions.OTHER})
        assert "referral_other" in refused.value.details
        with pytest.raises(ServiceError) as refused:
            register(
                world,
                {"referral": referral_institutions.OTHER, "referral_other": "KPZ Niš, 3 years for robbery"},
            )
        assert "referral_other" in refused.value.details
        assert not ApplicantSensitive.objects.exists()

    def test_a_name_without_other_is_refused(self, world, prison):
        with pytest.raises(ServiceError) as refused:
            register(world, {"referral": prison.pk, "referral_other": "KPZ Niš"})
        assert "referral_other" in refused.value.details

    def test_an_inactive_entry_is_refused(self, world):
        closed = ReferralInstitutionFactory(name="Closed prison", active=False)
        with pytest.raises(ServiceError) as refused:
            register(world, {"referral": closed.pk})
        assert "referral" in refused.value.details


class TestTheApi:
    def body(self, world, sensitive):
        return {
            "first_name": "Dragan",
            "last_name": "Petrović",
            "date_of_birth": "1988-04-02",
            "centre": world.centre.pk,
            "target_groups": ["former_inmate"],
            "consent_given": True,
            "special_consents": ["prison"],
            "sensitive": sensitive,
        }

    def test_the_old_field_still_works_and_lands_in_the_list(self, world, api, prison):
        response = api(world.officer).post(
            "/api/v1/applicants/",
            self.body(world, {"referral_institution": "sremska mitrovica  correctional institution"}),
            format="json",
        )
        assert response.status_code == 201, response.json()
        sensitive = response.json()["sensitive"]
        assert sensitive["referral"] == prison.pk
        assert sensitive["referral_institution"] == prison.name and sensitive["referral_other"] is None

    def test_the_old_field_refuses_a_story_with_a_field_error(self, world, api):
        response = api(world.officer).post(
            "/api/v1/applicants/",
            self.body(world, {"referral_institution": "KPZ Niš, sentenced for theft"}),
            format="json",
        )
        assert response.status_code == 400
        assert "referral_institution" in str(response.json())
        assert not ApplicantSensitive.objects.exists()

    def test_other_is_a_name_of_at_most_80_characters(self, world, api):
        response = api(world.officer).post(
            "/api/v1/applicants/", self.body(world, {"referral_other": "x" * 81}), format="json"
        )
        assert response.status_code == 400
        response = api(world.officer).post(
            "/api/v1/applicants/", self.body(world, {"referral_other": "Outreach desk Ruma"}), format="json"
        )
        assert response.status_code == 201
        assert response.json()["sensitive"]["referral_institution"] == "Outreach desk Ruma"

    def test_the_list_is_for_staff(self, world, api, prison):
        rows = api(world.officer).get("/api/v1/referral-institutions/").json()["results"]
        assert prison.name in [row["name"] for row in rows]
        assert api(world.applicant).get("/api/v1/referral-institutions/").status_code == 403


class TestTheForm:
    def test_the_form_offers_the_list_and_warns_against_stories(self, world, client, prison):
        verified_login(client, world.officer)
        page = client.get(reverse("applicant-register")).content.decode()
        assert prison.name in page
        assert "Never write offences, sentences or the person" in page


def test_the_import_refuses_a_referral_column(world, tmp_path):
    sheet = tmp_path / "people.csv"
    sheet.write_text(
        "first_name,last_name,date_of_birth,target_groups,consent_given,referral_institution\n"
        "Dragan,Petrović,1988-04-02,former_inmate,yes,KPZ Niš\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match="referral_institution"):
        call_command("import_applicants", str(sheet), "--centre", str(world.centre.pk), "--by", "officer")
    assert not ApplicantSensitive.objects.exists()


# ---- the text kept for review: managers only -------------------------------------------


class TestReview:
    @pytest.fixture
    def kept(self, world):
        world.application()
        return ApplicantSensitiveFactory(
            applicant=world.person, referral_other="", referral_review="KPZ Niš, sentenced for theft"
        )

    def page(self, client, user, world):
        verified_login(client, user)
        application = world.person.applications.get()
        return client.get(reverse("application-detail", args=[application.pk]) + "?show=sensitive")

    def test_the_manager_sees_it_and_the_officer_does_not(self, world, client, kept):
        assert "sentenced for theft" in self.page(client, world.manager, world).content.decode()
        client.logout()
        assert "sentenced for theft" not in self.page(client, world.officer, world).content.decode()

    def test_the_api_never_returns_it(self, world, api, kept):
        data = api(world.manager).get(f"/api/v1/applicants/{world.person.pk}/").json()
        assert "theft" not in str(data)

    def test_the_manager_chooses_the_entry_and_the_text_goes(self, world, client, kept, prison):
        verified_login(client, world.manager)
        application = world.person.applications.get()
        response = client.post(
            reverse("referral-review", args=[application.pk]), {"referral": str(prison.pk)}
        )
        assert response.status_code == 302
        kept.refresh_from_db()
        assert (kept.referral, kept.referral_review) == (prison, "")
        event = AuditEvent.objects.get(action="referral_reviewed")
        assert event.actor == world.manager and "theft" not in str(event.data)

    @pytest.mark.parametrize("who", ["officer", "finance", "auditor"])
    def test_other_roles_may_not_review(self, world, client, kept, prison, who):
        verified_login(client, getattr(world, who))
        application = world.person.applications.get()
        response = client.post(
            reverse("referral-review", args=[application.pk]), {"referral": str(prison.pk)}
        )
        assert response.status_code in (403, 404)
        kept.refresh_from_db()
        assert kept.referral_review

    def test_a_manager_of_another_centre_gets_404(self, world, kept, prison):
        other = staff(roles.PROGRAMME_MANAGER, world.other_centre, username="manager-elsewhere")
        with pytest.raises(Exception) as refused:
            services.referral_review_close(by=other, applicant=world.person, referral=prison.pk)
        assert type(refused.value).__name__ == "NotVisible"
