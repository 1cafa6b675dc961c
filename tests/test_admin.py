"""The admin site: only superusers and staff accounts get in; each list is what the
person's permissions allow; staff assignments are one action that keeps guardian's
permissions in step; the audit trail cannot be edited and shows the auditor no personal
data."""

import pytest
from django.urls import reverse

from applicants import roles
from applicants.models import IntegrationCentre, StaffAssignment, StaffProfile
from applicants.selectors import centre_ids
from grants.models import AuditEvent, GrantApplication

from .conftest import verified_login
from .factories import ApplicantSensitiveFactory, UserFactory, staff

pytestmark = pytest.mark.django_db


# The staff profile's inline, left empty.
PROFILE_NONE = {
    "staff_profile-TOTAL_FORMS": "0",
    "staff_profile-INITIAL_FORMS": "0",
    "staff_profile-MIN_NUM_FORMS": "0",
    "staff_profile-MAX_NUM_FORMS": "1",
}


def admin_client(client, user):
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return verified_login(client, user)


def superuser():
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def listed(response):
    return {obj.pk for obj in response.context["cl"].result_list}


def centre_form(centre, rows=(), new_users=()):
    """The centre's change form as the browser posts it: existing assignment rows
    (`rows`: (assignment, delete?)) and new ones."""
    data = {
        "country": centre.country_id,
        "name": centre.name,
        "kind": centre.kind,
        "municipality": centre.municipality,
        "assignments-TOTAL_FORMS": str(len(rows) + len(new_users)),
        "assignments-INITIAL_FORMS": str(len(rows)),
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "1000",
    }
    for i, (assignment, delete) in enumerate(rows):
        data[f"assignments-{i}-id"] = str(assignment.pk)
        data[f"assignments-{i}-centre"] = str(centre.pk)
        if delete:
            data[f"assignments-{i}-DELETE"] = "on"
    for j, user in enumerate(new_users, start=len(rows)):
        data[f"assignments-{j}-centre"] = str(centre.pk)
        data[f"assignments-{j}-user"] = str(user.pk)
    return data


def application_form(app, officer):
    """The application's change form as posted: the officer, and the read-only items."""
    count = str(app.items.count())
    return {
        "assigned_officer": officer.pk,
        "items-TOTAL_FORMS": count,
        "items-INITIAL_FORMS": count,
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }


class TestWhoGetsIn:
    def test_an_applicant_is_sent_to_the_admin_login(self, client, world):
        verified_login(client, world.applicant)
        response = client.get("/admin/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_staff_without_the_staff_flag_are_sent_to_the_admin_login(self, client, world):
        verified_login(client, world.manager)
        response = client.get(changelist(GrantApplication))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]

    def test_a_superuser_gets_in(self, client, world):
        verified_login(client, superuser())
        assert client.get("/admin/").status_code == 200


class TestCentres:
    def test_a_manager_lists_only_their_centres(self, client, world):
        manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="mgr-niš")
        admin_client(client, manager)
        response = client.get(changelist(IntegrationCentre))
        assert listed(response) == {world.centre.pk}
        # Another centre's page is not there for them.
        response = client.get(change(world.other_centre))
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")

    def test_a_manager_assigns_a_field_officer_to_their_centre_in_one_action(self, client, world):
        manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="mgr-niš")
        admin_client(client, manager)
        newcomer = staff(roles.FIELD_OFFICER, username="newcomer")
        assert centre_ids(newcomer) == frozenset()

        response = client.post(change(world.centre), centre_form(world.centre, new_users=[newcomer]))

        assert response.status_code == 302, response.context and response.context["errors"]
        assert StaffAssignment.objects.filter(user=newcomer, centre=world.centre).exists()
        assert newcomer.has_perm("applicants.access_centre", world.centre)
        event = AuditEvent.objects.get(action="staff_assigned")
        assert (event.actor, event.data) == (manager, {"user": newcomer.pk, "centre": world.centre.pk})
        # The centre's own fields are not the manager's to change.
        world.centre.refresh_from_db()
        assert world.centre.name == "Integration Centre Niš"

    def test_removing_the_row_removes_the_permission_too(self, client, world):
        manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="mgr-niš")
        admin_client(client, manager)
        assignment = StaffAssignment.objects.get(user=world.colleague, centre=world.centre)

        response = client.post(change(world.centre), centre_form(world.centre, rows=[(assignment, True)]))

        assert response.status_code == 302
        assert not StaffAssignment.objects.filter(user=world.colleague, centre=world.centre).exists()
        fresh = type(world.colleague).objects.get(pk=world.colleague.pk)
        assert not fresh.has_perm("applicants.access_centre", world.centre)
        assert AuditEvent.objects.filter(action="staff_unassigned", actor=manager).count() == 1

    def test_a_person_without_a_staff_role_cannot_be_assigned(self, client, world):
        manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="mgr-niš")
        admin_client(client, manager)

        response = client.post(change(world.centre), centre_form(world.centre, new_users=[world.applicant]))

        assert response.status_code == 200  # the form again, with the error
        assert not StaffAssignment.objects.filter(user=world.applicant).exists()
        assert not world.applicant.has_perm("applicants.access_centre", world.centre)

    def test_a_field_officer_sees_the_centre_but_cannot_change_its_staff(self, client, world):
        admin_client(client, world.officer)
        newcomer = staff(roles.FIELD_OFFICER, username="newcomer")
        assert client.get(change(world.centre)).status_code == 200
        response = client.post(change(world.centre), centre_form(world.centre, new_users=[newcomer]))
        assert response.status_code == 403
        assert not StaffAssignment.objects.filter(user=newcomer).exists()

    def test_the_superuser_assigns_from_the_users_page(self, client, world):
        root = superuser()
        verified_login(client, root)
        newcomer = staff(roles.FINANCE_OFFICER, username="newcomer")
        url = reverse("admin:auth_user_change", args=[newcomer.pk])
        page = client.get(url)
        data = {
            key: value
            for key, value in page.context["adminform"].form.initial.items()
            if key in ("username", "first_name", "last_name", "email", "is_active", "is_staff")
            and value is not None
        }
        data.update(
            {
                "date_joined_0": "2026-01-01",
                "date_joined_1": "00:00:00",
                "assignments-TOTAL_FORMS": "1",
                "assignments-INITIAL_FORMS": "0",
                "assignments-MIN_NUM_FORMS": "0",
                "assignments-MAX_NUM_FORMS": "1000",
                "assignments-0-user": str(newcomer.pk),
                "assignments-0-centre": str(world.other_centre.pk),
                **PROFILE_NONE,
            }
        )
        response = client.post(url, data)
        assert response.status_code == 302, response.context["errors"] if response.context else ""
        assert centre_ids(type(newcomer).objects.get(pk=newcomer.pk)) == {world.other_centre.pk}

    @pytest.mark.parametrize(
        ("phone", "sms", "stored"),
        [
            ("064 111 2233", "on", "+381641112233"),
            ("+383 44 123 456", "on", "+38344123456"),
            ("12", "on", None),
            ("", "on", None),
        ],
    )
    def test_the_superuser_records_an_officers_mobile_for_sms_reminders(
        self, client, world, phone, sms, stored
    ):
        root = superuser()
        verified_login(client, root)
        url = reverse("admin:auth_user_change", args=[world.officer.pk])
        page = client.get(url)
        data = {
            key: value
            for key, value in page.context["adminform"].form.initial.items()
            if key in ("username", "first_name", "last_name", "email", "is_active", "is_staff")
            and value is not None
        }
        data.update(
            {
                "date_joined_0": "2026-01-01",
                "date_joined_1": "00:00:00",
                "assignments-TOTAL_FORMS": "0",
                "assignments-INITIAL_FORMS": "0",
                "assignments-MIN_NUM_FORMS": "0",
                "assignments-MAX_NUM_FORMS": "1000",
                **PROFILE_NONE,
                "staff_profile-TOTAL_FORMS": "1",
                "staff_profile-0-phone": phone,
                "staff_profile-0-sms_reminders": sms,
            }
        )
        response = client.post(url, data)
        profile = StaffProfile.objects.filter(user=world.officer).first()
        if stored is None:
            assert response.status_code == 200
            assert profile is None
        else:
            assert response.status_code == 302
            assert (profile.phone, profile.sms_reminders) == (stored, True)

    def test_guardians_permission_pages_are_for_superusers_and_never_hand_out_centre_access(
        self, client, world
    ):
        manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="mgr-niš")
        admin_client(client, manager)
        url = reverse("admin:applicants_integrationcentre_permissions", args=[world.centre.pk])
        assert client.get(url).status_code == 302

        verified_login(client, superuser())
        url = reverse(
            "admin:applicants_integrationcentre_permissions_manage_user",
            args=[world.centre.pk, world.officer2.pk],
        )
        page = client.get(url)
        assert page.status_code == 200
        choices = [code for code, _label in page.context["form"].fields["permissions"].choices]
        assert "access_centre" not in choices
        assert not any(code.startswith("role_") for code in choices)


class TestApplications:
    def test_staff_list_only_their_centres_applications(self, client, world):
        here = world.application()
        world.application(applicant=world.person2, programme=world.other_programme, assigned_officer=None)
        admin_client(client, world.officer)
        response = client.get(changelist(GrantApplication))
        assert listed(response) == {here.pk}
        # The applicant's name is masked in the list.
        assert "Demić" not in response.content.decode()

    def test_another_centres_application_is_not_there(self, client, world):
        there = world.application(applicant=world.person2, programme=world.other_programme)
        admin_client(client, world.officer)
        response = client.get(change(there))
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index")

    def test_the_auditor_sees_no_applications(self, client, world):
        world.application()
        admin_client(client, world.auditor)
        assert client.get(changelist(GrantApplication)).status_code == 403

    def test_a_manager_reassigns_an_application_to_an_officer_of_its_centre(self, client, world):
        app = world.application()
        admin_client(client, world.manager)
        page = client.get(change(app))
        officers = {u.pk for u in page.context["adminform"].form.fields["assigned_officer"].queryset}
        assert officers == {world.officer.pk, world.colleague.pk}

        response = client.post(change(app), application_form(app, world.colleague))

        assert response.status_code == 302
        app.refresh_from_db()
        assert app.assigned_officer == world.colleague
        event = AuditEvent.objects.get(action="reassigned")
        assert (event.actor, event.application, event.data) == (
            world.manager,
            app,
            {
                "from_officer": world.officer.pk,
                "to_officer": world.colleague.pk,
                "before": {"assigned_officer": world.officer.pk},
                "after": {"assigned_officer": world.colleague.pk},
            },
        )

    def test_an_officer_of_another_centre_is_refused(self, client, world):
        app = world.application()
        admin_client(client, world.manager)
        response = client.post(change(app), application_form(app, world.officer2))
        assert response.status_code == 200  # not a valid choice: the form again
        app.refresh_from_db()
        assert app.assigned_officer == world.officer

    def test_a_field_officer_cannot_reassign(self, client, world):
        app = world.application()
        admin_client(client, world.officer)
        assert client.get(change(app)).status_code == 200
        response = client.post(change(app), application_form(app, world.colleague))
        assert response.status_code == 403
        app.refresh_from_db()
        assert app.assigned_officer == world.officer

    def test_nobody_adds_or_deletes_applications_here(self, client, world):
        app = world.application()
        verified_login(client, superuser())
        add = reverse("admin:grants_grantapplication_add")
        delete = reverse("admin:grants_grantapplication_delete", args=[app.pk])
        assert client.get(add).status_code == 403
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert GrantApplication.objects.filter(pk=app.pk).exists()


class TestApplicants:
    def test_officers_see_their_centres_applicants_masked_and_never_the_sensitive_facts(self, client, world):
        ApplicantSensitiveFactory(applicant=world.person)
        admin_client(client, world.officer)
        response = client.get(changelist(type(world.person)))
        assert listed(response) == {world.person.pk}
        assert "Demić" not in response.content.decode()

        page = client.get(change(world.person)).content.decode()
        assert "Demić" in page
        for fact in ("Sremska Mitrovica", "Roma", "Germany"):
            assert fact not in page

    def test_finance_does_not_see_applicants(self, client, world):
        admin_client(client, world.finance)
        assert client.get(changelist(type(world.person))).status_code == 403

    def test_records_are_read_only(self, client, world):
        admin_client(client, world.officer)
        response = client.post(change(world.person), {"first_name": "Changed"})
        assert response.status_code == 403
        world.person.refresh_from_db()
        assert world.person.first_name == "Marko"


class TestAuditTrail:
    def make_events(self, world):
        from grants import services

        app = world.application()
        services.take_transition(application=app, name="submit", by=world.officer)
        services.take_transition(
            application=app, name="return_for_changes", by=world.officer, comment="Marko, add a quote."
        )
        other = world.application(applicant=world.person2, programme=world.other_programme)
        services.take_transition(application=other, name="submit", by=world.applicant2)
        return app, other

    def test_nobody_adds_changes_or_deletes_events(self, client, world):
        self.make_events(world)
        event = AuditEvent.objects.first()
        verified_login(client, superuser())
        assert client.get(reverse("admin:grants_auditevent_add")).status_code == 403
        page = client.get(change(event))
        assert page.status_code == 200
        assert not page.context["has_change_permission"]
        assert client.post(change(event), {"action": "forged"}).status_code == 403
        delete = reverse("admin:grants_auditevent_delete", args=[event.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert AuditEvent.objects.get(pk=event.pk).action == event.action

    def test_the_auditor_reads_their_centres_trail_without_personal_data(self, client, world):
        app, other = self.make_events(world)
        auditor = staff(roles.AUDITOR, world.centre, username="auditor-niš")
        admin_client(client, auditor)
        response = client.get(changelist(AuditEvent))
        assert listed(response) == set(
            AuditEvent.objects.filter(application=app).values_list("pk", flat=True)
        )
        body = response.content.decode()
        for personal in ("Demić", "Marko", "add a quote"):
            assert personal not in body
        event = AuditEvent.objects.filter(application=app, action="submit").get()
        page = client.get(change(event)).content.decode()
        assert "submit" in page
        for personal in ("Demić", "Marko"):
            assert personal not in page

    def test_a_manager_sees_who_acted_on_whose_behalf(self, client, world):
        self.make_events(world)
        admin_client(client, world.manager)
        body = client.get(changelist(AuditEvent)).content.decode()
        assert "Marko Demić" in body  # the officer submitted on his behalf
