"""Keeping institutions (issue 21.2): the admin page, role by role, through the audited
institutions service, never deleting one that has applications; the contact person kept
out of the People list unless asked for, and the API's additive filter; a contact
person's erasure, which takes their name and numbers and leaves the institution's grant
and its figures whole."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from applicants import institutions, roles
from applicants.models import Applicant, Institution
from audit.models import AuditEvent
from core.errors import Conflict, NotAllowed, NotVisible
from grants.models import Document, GrantApplication
from privacy import subjects
from reports import figures as reports

from .conftest import admin_for, verified_login
from .factories import (
    ApplicationFactory,
    CentreFactory,
    CountryFactory,
    DocumentFactory,
    InstitutionFactory,
    ProgrammeFactory,
    UserFactory,
    staff,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:applicants_institution_changelist"


def change_url(institution):
    return reverse("admin:applicants_institution_change", args=[institution.pk])


def delete_url(institution):
    return reverse("admin:applicants_institution_delete", args=[institution.pk])


def form(institution, **changes):
    return {
        "name": institution.name,
        "kind": institution.kind,
        "registration_number": institution.registration_number,
        "address": institution.address,
        "municipality": institution.municipality,
        **changes,
    }


class Places:
    """An institution in Niš (Serbia) and one in Prizren (Kosovo), and managers for one
    centre, for the other country's centre only, and for a third country."""

    def __init__(self, world):
        self.nis = InstitutionFactory(
            centre=world.centre,
            name="Carpentry workshop KPZ Niš",
            contact__first_name="Dragan",
            contact__last_name="Ilić",
            contact__phone="+381641234567",
        )
        self.prizren = InstitutionFactory(
            centre=world.other_centre, name="Vocational school Prizren", kind="vocational_school"
        )
        self.kosovo_manager = staff(roles.PROGRAMME_MANAGER, world.other_centre, username="kosovo-manager")
        albania = CentreFactory(country=CountryFactory(code="AL", name="Albania"), name="Centre Tirana")
        self.albania_manager = staff(roles.PROGRAMME_MANAGER, albania, username="albania-manager")


@pytest.fixture
def places(world):
    return Places(world)


# ---- the admin, role by role ----------------------------------------------------------------


class TestWhoKeepsWhich:
    @pytest.mark.parametrize(
        ("who", "listed"),
        [
            ("superuser", {"nis", "prizren"}),
            ("manager", {"nis", "prizren"}),
            ("kosovo_manager", {"prizren"}),
            ("albania_manager", set()),
        ],
    )
    def test_each_lists_the_institutions_of_their_centres(self, world, places, who, listed):
        user = {
            "superuser": lambda: UserFactory(username="root", is_superuser=True),
            "manager": lambda: world.manager,
            "kosovo_manager": lambda: places.kosovo_manager,
            "albania_manager": lambda: places.albania_manager,
        }[who]()
        answer = admin_for(user).get(reverse(CHANGELIST))
        assert answer.status_code == 200
        shown = {institution.pk for institution in answer.context["cl"].result_list}
        assert shown == {getattr(places, name).pk for name in listed}

    @pytest.mark.parametrize("role", ["officer", "finance", "auditor", "procurement"])
    def test_other_staff_do_not_reach_the_admin_page(self, world, places, role):
        client = admin_for(getattr(world, role))
        assert client.get(reverse(CHANGELIST)).status_code == 403
        assert client.get(change_url(places.nis)).status_code == 403

    def test_a_manager_of_another_country_gets_nothing(self, world, places):
        client = admin_for(places.albania_manager)
        for url in (change_url(places.nis), delete_url(places.nis)):
            answer = client.get(url)
            # The admin's "does not exist" answer: back to its index, nothing shown.
            assert answer.status_code == 302 and places.nis.name not in answer.content.decode()
        assert client.post(change_url(places.nis), form(places.nis, name="Renamed")).status_code == 302
        places.nis.refresh_from_db()
        assert places.nis.name == "Carpentry workshop KPZ Niš"
        assert not AuditEvent.objects.filter(action="institution_changed").exists()

    def test_the_kosovo_manager_cannot_change_the_nis_workshop(self, world, places):
        client = admin_for(places.kosovo_manager)
        assert client.post(change_url(places.nis), form(places.nis, name="Renamed")).status_code == 302
        places.nis.refresh_from_db()
        assert places.nis.name == "Carpentry workshop KPZ Niš"

    def test_nobody_adds_an_institution_in_the_admin(self, world, places):
        # Registered by field officers with the contact person's consent (web, API).
        root = admin_for(UserFactory(username="root", is_superuser=True))
        assert root.get(reverse("admin:applicants_institution_add")).status_code == 403

    def test_the_list_shows_the_contact_person_and_takes_a_bounded_number_of_queries(
        self, world, places, django_assert_max_num_queries
    ):
        client = admin_for(world.manager)
        with django_assert_max_num_queries(20):
            answer = client.get(reverse(CHANGELIST))
        assert "Dragan Ilić" in answer.content.decode()
        for n in range(12):
            InstitutionFactory(centre=world.centre, name=f"Workshop {n}")
        with django_assert_max_num_queries(20):
            answer = client.get(reverse(CHANGELIST))
        assert len(answer.context["cl"].result_list) == 14


class TestChanges:
    def test_a_manager_renames_an_institution_and_the_trail_keeps_the_old_name(self, world, places):
        client = admin_for(world.manager)
        page = client.get(change_url(places.nis))
        assert page.status_code == 200
        assert "Dragan Ilić" in page.content.decode() and "+381641234567" in page.content.decode()
        answer = client.post(
            change_url(places.nis), form(places.nis, name="Carpentry workshop Niš", address="Bulevar 12")
        )
        assert answer.status_code == 302, answer.context["adminform"].form.errors
        places.nis.refresh_from_db()
        assert (places.nis.name, places.nis.address) == ("Carpentry workshop Niš", "Bulevar 12")
        event = AuditEvent.objects.get(action="institution_changed")
        assert event.actor == world.manager and event.applicant_id == places.nis.contact_id
        assert event.data == {
            "institution": places.nis.pk,
            "before": {"address": "", "name": "Carpentry workshop KPZ Niš"},
            "after": {"address": "Bulevar 12", "name": "Carpentry workshop Niš"},
        }

    def test_saving_without_a_change_writes_no_event(self, world, places):
        answer = admin_for(world.manager).post(change_url(places.nis), form(places.nis))
        assert answer.status_code == 302
        assert not AuditEvent.objects.filter(action="institution_changed").exists()

    def test_a_name_taken_at_the_centre_is_refused_at_its_field(self, world, places):
        InstitutionFactory(centre=world.centre, name="Vocational school Niš")
        answer = admin_for(world.manager).post(
            change_url(places.nis), form(places.nis, name="vocational school niš")
        )
        assert answer.status_code == 200
        assert "already registered at the centre" in str(answer.context["adminform"].form.errors["name"])
        places.nis.refresh_from_db()
        assert places.nis.name == "Carpentry workshop KPZ Niš"

    def test_a_blank_name_is_refused(self, world, places):
        answer = admin_for(world.manager).post(change_url(places.nis), form(places.nis, name="   "))
        assert answer.status_code == 200 and answer.context["adminform"].form.errors
        assert not AuditEvent.objects.filter(action="institution_changed").exists()

    def test_the_service_asks_who_may_change(self, world, places):
        with pytest.raises(NotAllowed):
            institutions.update_institution(institution=places.nis, by=world.officer, name="X")
        with pytest.raises(NotVisible):
            institutions.update_institution(institution=places.nis, by=world.officer2, name="X")
        with pytest.raises(NotVisible):
            institutions.update_institution(institution=places.nis, by=places.albania_manager, name="X")
        places.nis.refresh_from_db()
        assert places.nis.name == "Carpentry workshop KPZ Niš"
        assert not AuditEvent.objects.filter(action="institution_changed").exists()


class TestDeleting:
    def test_an_institution_with_applications_is_never_deleted(self, world, places):
        programme = ProgrammeFactory(country=world.serbia, allows_institutions=True)
        ApplicationFactory(applicant=places.nis.contact, institution=places.nis, programme=programme)
        client = admin_for(world.manager)
        for answer in (
            client.get(delete_url(places.nis)),
            client.post(delete_url(places.nis), {"post": "yes"}),
        ):
            assert answer.status_code == 302 and answer["Location"] == change_url(places.nis)
            said = [str(message) for message in get_messages(answer.wsgi_request)]
            assert "Carpentry workshop KPZ Niš has 1 application" in said[-1]
        assert Institution.objects.filter(pk=places.nis.pk).exists()
        with pytest.raises(Conflict, match="never deleted"):
            institutions.delete_institution(institution=places.nis, by=world.manager)
        assert not AuditEvent.objects.filter(action="institution_deleted").exists()

    def test_one_registered_by_mistake_goes_and_the_trail_keeps_it(self, world, places):
        contact_id = places.nis.contact_id
        answer = admin_for(world.manager).post(delete_url(places.nis), {"post": "yes"})
        assert answer.status_code == 302
        assert not Institution.objects.filter(pk=places.nis.pk).exists()
        # The contact person's record stays with their consent and history.
        assert Applicant.objects.filter(pk=contact_id).exists()
        event = AuditEvent.objects.get(action="institution_deleted")
        assert event.actor == world.manager and event.data["after"] is None
        assert event.data["before"]["name"] == "Carpentry workshop KPZ Niš"
        assert event.data["before"]["contact"] == contact_id

    def test_the_kosovo_manager_cannot_delete_the_nis_workshop(self, world, places):
        client = admin_for(places.kosovo_manager)
        assert client.post(delete_url(places.nis), {"post": "yes"}).status_code == 302
        assert Institution.objects.filter(pk=places.nis.pk).exists()
        with pytest.raises(NotVisible):
            institutions.delete_institution(institution=places.nis, by=places.kosovo_manager)


# ---- the People list and the API ---------------------------------------------------------


class TestPeopleList:
    def test_contact_people_are_listed_with_their_institution_not_among_people(self, world, places, client):
        verified_login(client, world.officer)
        people = client.get(reverse("applicant-list"))
        shown = {person.pk for person in people.context["page"]}
        assert world.person.pk in shown and places.nis.contact_id not in shown
        html = people.content.decode()
        assert reverse("institution-list") in html and "contacts=on" in html
        institutions_page = client.get(reverse("institution-list")).content.decode()
        assert "Dragan Ilić" in institutions_page and "+381641234567" in institutions_page

    def test_asked_for_they_are_shown_as_contact_people(self, world, places, client):
        verified_login(client, world.officer)
        people = client.get(reverse("applicant-list"), {"contacts": "on"})
        shown = {person.pk for person in people.context["page"]}
        assert {world.person.pk, places.nis.contact_id} <= shown
        html = people.content.decode()
        assert "contact person of Carpentry workshop KPZ Niš" in html
        # Their application is the institution's.
        assert f"?institution={places.nis.pk}" in html
        assert f"?applicant={places.nis.contact_id}" not in html
        searched = client.get(reverse("applicant-list"), {"q": "Ilić"})
        assert places.nis.contact_id not in {person.pk for person in searched.context["page"]}
        searched = client.get(reverse("applicant-list"), {"q": "Ilić", "contacts": "on"})
        assert [person.pk for person in searched.context["page"]] == [places.nis.contact_id]

    def test_the_list_takes_a_bounded_number_of_queries(
        self, world, places, client, django_assert_max_num_queries
    ):
        verified_login(client, world.manager)
        with django_assert_max_num_queries(14):
            client.get(reverse("applicant-list"), {"contacts": "on"})
        for n in range(10):
            InstitutionFactory(centre=world.centre, name=f"Workshop {n}")
        with django_assert_max_num_queries(14):
            page = client.get(reverse("applicant-list"), {"contacts": "on"})
        assert page.content.decode().count("contact person of") == 12


class TestApiFilter:
    def test_without_the_filter_the_list_is_as_before(self, world, places, api):
        ids = {row["id"] for row in api(world.officer).get("/api/v1/applicants/").json()["results"]}
        assert {world.person.pk, places.nis.contact_id} <= ids

    @pytest.mark.parametrize(("value", "contacts"), [("true", True), ("false", False)])
    def test_the_filter_keeps_contacts_or_people(self, world, places, api, value, contacts):
        answer = api(world.manager).get("/api/v1/applicants/", {"is_institution_contact": value})
        assert answer.status_code == 200
        ids = {row["id"] for row in answer.json()["results"]}
        expected = set(Applicant.objects.filter(is_institution_contact=contacts).values_list("pk", flat=True))
        assert ids == expected and ids
        assert (places.nis.contact_id in ids) is contacts

    def test_a_value_that_is_no_yes_or_no_is_refused(self, world, places, api):
        answer = api(world.officer).get("/api/v1/applicants/", {"is_institution_contact": "sometimes"})
        assert answer.status_code == 400
        assert "is_institution_contact" in answer.json()

    def test_the_filtered_list_takes_a_bounded_number_of_queries(
        self, world, places, api, django_assert_max_num_queries
    ):
        client = api(world.officer)
        with django_assert_max_num_queries(10):
            client.get("/api/v1/applicants/", {"is_institution_contact": "true"})
        for n in range(10):
            InstitutionFactory(centre=world.centre, name=f"Workshop {n}")
        with django_assert_max_num_queries(10):
            answer = client.get("/api/v1/applicants/", {"is_institution_contact": "true"})
        assert answer.json()["count"] == 11


# ---- the contact person's rights ------------------------------------------------------------


class TestContactErasure:
    def test_erasing_a_contact_keeps_the_institutions_grant_and_its_figures(self, world, places):
        programme = ProgrammeFactory(country=world.serbia, allows_institutions=True)
        application = ApplicationFactory(
            applicant=places.nis.contact,
            institution=places.nis,
            programme=programme,
            completed=True,
            business_name="Workshop benches",
            activity="Benches made by the trainees; Dragan Ilić (+381641234567) runs the workshop.",
        )
        document = DocumentFactory(application=application, kind="invoice")
        filters = reports.ReportFilters(programme=programme.pk)
        before = reports.impact_figures(world.manager, filters)
        assert before["institutions_supported"] == 1
        approved = application.approved_amount

        subjects.erase_applicant(applicant=places.nis.contact, by=world.manager, reason="Left the job.")

        contact = Applicant.objects.get(pk=places.nis.contact_id)
        assert (contact.first_name, contact.phone, contact.email) == ("Erased", "", "")
        assert contact.pseudonymised_at is not None
        places.nis.refresh_from_db()
        assert places.nis.name == "Carpentry workshop KPZ Niš" and places.nis.contact_id == contact.pk
        application = GrantApplication.objects.get(pk=application.pk)
        assert application.approved_amount == approved and application.institution_id == places.nis.pk
        # The institution's texts and documents stay; the person's name and number do not.
        assert application.business_name == "Workshop benches"
        assert application.activity.startswith("Benches made by the trainees;")
        assert "Dragan" not in application.activity and "381641234567" not in application.activity
        assert Document.objects.filter(pk=document.pk).exists()
        assert reports.impact_figures(world.manager, filters) == before
        event = AuditEvent.objects.get(action="applicant_pseudonymised", applicant=contact)
        assert event.data["documents_deleted"] == 0 and event.data["institution_contact"] is True

    def test_a_persons_erasure_still_takes_their_documents(self, world):
        application = world.application(completed=True)
        DocumentFactory(application=application)
        subjects.erase_applicant(applicant=world.person, by=world.manager, reason="Asked in writing.")
        assert not Document.objects.filter(application=application).exists()
        assert GrantApplication.objects.get(pk=application.pk).business_name.endswith(f"#{application.pk}")

    def test_the_export_of_a_contact_names_their_institution(self, world, places):
        data = subjects.applicant_data(places.nis.contact)
        assert data["applicant"]["first_name"] == "Dragan"
        assert data["institution"] == {
            "id": places.nis.pk,
            "name": "Carpentry workshop KPZ Niš",
            "kind": "prison_workshop",
        }
        assert subjects.applicant_data(world.person)["institution"] is None
