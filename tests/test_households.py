"""One grant per person and household in a programme (issue 15): the approval refuses a
second grant to the same person, the same household reference or the same address,
unless a programme manager allowed it with a reason (audited); other programmes and
ended grants do not count."""

import pytest
from django.urls import reverse

from applicants import roles
from applicants.models import DuplicateFlag
from core.errors import NotAllowed, NotVisible, RuleNotMet, ServiceError
from grants import households, permissions, services
from grants.models import AuditEvent, HouseholdOverride

from .conftest import verified_login
from .factories import ApplicantFactory, ProgrammeFactory, staff

pytestmark = pytest.mark.django_db


def approve(application, by):
    return services.take_transition(application=application, name="approve", by=by)


def rule_codes(excinfo):
    return [code for code, _message in excinfo.value.rules]


def neighbour(world, **kwargs):
    kwargs.setdefault("centre", world.centre)
    return ApplicantFactory(first_name="Jovana", **kwargs)


class TestTheRule:
    def test_a_second_grant_to_the_same_person_is_refused(self, world):
        first = world.application(approved=True)
        second = world.application(ready=True)
        with pytest.raises(RuleNotMet) as excinfo:
            approve(second, world.manager)
        assert rule_codes(excinfo) == ["one_grant_per_household"]
        assert f"#{first.pk} (the same person)" in str(excinfo.value)
        second.refresh_from_db()
        assert second.state == "business_training"
        assert not AuditEvent.objects.filter(application=second, action="approve").exists()

    def test_the_same_address_written_another_way_is_one_household(self, world):
        world.person.address, world.person.municipality = "ul. Vojvode Mišića br. 5", "Niš"
        world.person.save()
        world.application(approved=True)
        other = neighbour(world, address="Vojvode Misica 5", municipality="NIS")
        second = world.application(applicant=other, ready=True)
        with pytest.raises(RuleNotMet) as excinfo:
            approve(second, world.manager)
        assert "(the same address)" in str(excinfo.value)

    def test_another_house_number_is_another_household(self, world):
        world.person.address, world.person.municipality = "Vojvode Mišića 5", "Niš"
        world.person.save()
        world.application(approved=True)
        other = neighbour(world, address="Vojvode Mišića 7", municipality="Niš")
        assert approve(world.application(applicant=other, ready=True), world.manager).state == "approved"

    def test_the_same_household_reference_is_one_household(self, world):
        world.person.household_ref = "FK-0012 3"
        world.person.save()
        world.application(approved=True)
        other = neighbour(world, household_ref="fk00123", address="Elsewhere 1")
        with pytest.raises(RuleNotMet) as excinfo:
            approve(world.application(applicant=other, ready=True), world.manager)
        assert "(the same household)" in str(excinfo.value)

    def test_a_registration_decided_to_be_the_same_person_counts(self, world):
        world.application(approved=True)
        again = neighbour(world)
        DuplicateFlag.objects.create(
            applicant=again, other=world.person, decision=DuplicateFlag.Decision.SAME_PERSON
        )
        with pytest.raises(RuleNotMet) as excinfo:
            approve(world.application(applicant=again, ready=True), world.manager)
        assert "(the same person)" in str(excinfo.value)

    def test_a_flag_decided_different_does_not_count(self, world):
        world.application(approved=True)
        other = neighbour(world)
        DuplicateFlag.objects.create(
            applicant=other, other=world.person, decision=DuplicateFlag.Decision.DIFFERENT_PERSON
        )
        assert approve(world.application(applicant=other, ready=True), world.manager).state == "approved"

    def test_a_grant_of_another_programme_does_not_count(self, world):
        world.application(approved=True, programme=ProgrammeFactory(country=world.serbia))
        assert approve(world.application(ready=True), world.manager).state == "approved"

    @pytest.mark.parametrize("state", ["cancelled", "rejected", "withdrawn", "submitted"])
    def test_an_application_that_is_no_active_grant_does_not_count(self, world, state):
        world.application(state=state)
        assert approve(world.application(ready=True), world.manager).state == "approved"

    @pytest.mark.parametrize("trait", ["delivered", "follow_up", "completed"])
    def test_a_grant_past_its_approval_still_counts(self, world, trait):
        world.application(**{trait: True})
        with pytest.raises(RuleNotMet):
            approve(world.application(ready=True), world.manager)

    def test_a_cooperative_member_with_a_grant_counts(self, world):
        world.application(approved=True)
        contact = neighbour(world)
        cooperative = world.application(applicant=contact, ready=True, is_cooperative=True)
        cooperative.members.add(world.person)
        with pytest.raises(RuleNotMet):
            approve(cooperative, world.manager)

    def test_the_check_reads_a_handful_of_queries_whatever_the_grants(
        self, world, django_assert_max_num_queries
    ):
        for _n in range(5):
            world.application(applicant=neighbour(world), approved=True)
        app = world.application(ready=True)
        with django_assert_max_num_queries(4):
            assert households.conflicts(app, states={"approved"}) == []


class TestOverride:
    def test_with_an_override_the_second_grant_is_approved_and_audited(self, world):
        first = world.application(approved=True)
        second = world.application(ready=True)
        override = services.record_household_override(
            application=second, by=world.manager, reason="Two businesses, separate premises."
        )
        assert (override.created_by, override.reason) == (world.manager, "Two businesses, separate premises.")
        event = AuditEvent.objects.get(application=second, action="household_override")
        assert event.actor == world.manager
        assert event.data == {"grants": [[first.pk, "same_person"]]}
        assert event.comment == "Two businesses, separate premises."
        assert approve(second, world.manager).state == "approved"

    def test_a_reason_is_required_and_nothing_is_recorded_without(self, world):
        second = world.application(ready=True)
        with pytest.raises(ServiceError) as excinfo:
            services.record_household_override(application=second, by=world.manager, reason="  ")
        assert excinfo.value.code == "reason_required"
        with pytest.raises(ServiceError) as excinfo:
            services.record_household_override(application=second, by=world.manager, reason="x" * 2001)
        assert excinfo.value.code == "too_long"
        assert not HouseholdOverride.objects.exists()
        assert not AuditEvent.objects.filter(action="household_override").exists()

    def test_a_second_override_is_a_conflict(self, world):
        second = world.application(ready=True)
        services.record_household_override(application=second, by=world.manager, reason="Fine.")
        with pytest.raises(ServiceError) as excinfo:
            services.record_household_override(application=second, by=world.manager, reason="Again.")
        assert excinfo.value.status == 409


class TestWhoMayOverride:
    @pytest.mark.parametrize(
        ("who", "allowed"),
        [("manager", True), ("officer", False), ("finance", False), ("auditor", False), ("applicant", False)],
    )
    def test_role_by_role(self, world, who, allowed):
        app = world.application(ready=True)
        decision = permissions.can_override_household(getattr(world, who), app)
        assert decision.allowed is allowed

    def test_a_manager_of_another_centre_does_not_see_it(self, world):
        other_manager = staff(roles.PROGRAMME_MANAGER, world.other_centre)
        app = world.application(ready=True)
        with pytest.raises(NotVisible):
            services.record_household_override(application=app, by=other_manager, reason="No.")

    def test_a_manager_who_is_the_applicant_cannot(self, world):
        me = neighbour(world, user=world.manager)
        app = world.application(applicant=me, ready=True)
        with pytest.raises(NotAllowed):
            services.record_household_override(application=app, by=world.manager, reason="Mine.")

    def test_not_once_the_application_is_decided(self, world):
        app = world.application(approved=True)
        with pytest.raises(NotAllowed):
            services.record_household_override(application=app, by=world.manager, reason="Late.")

    def test_an_officer_is_refused_with_nothing_recorded(self, world):
        app = world.application(ready=True)
        with pytest.raises(NotAllowed):
            services.record_household_override(application=app, by=world.officer, reason="Mine to say.")
        assert not HouseholdOverride.objects.exists()


class TestPage:
    def test_the_manager_sees_the_grants_and_records_an_override(self, world, client):
        first = world.application(approved=True)
        second = world.application(ready=True)
        verified_login(client, world.manager)
        url = reverse("application-detail", args=[second.pk])
        response = client.get(url)
        assert response.context["household_conflicts"] == [{"pk": first.pk, "reason": "the same person"}]
        assert response.context["household_form"] is not None
        approve_row = next(r for r in response.context["transitions"] if r["name"] == "approve")
        assert not approve_row["allowed"] and f"#{first.pk}" in approve_row["reason"]

        response = client.post(reverse("application-household-override", args=[second.pk]), {"reason": "Ok."})
        assert response.status_code == 302
        assert HouseholdOverride.objects.get(application=second).reason == "Ok."
        response = client.get(url)
        assert response.context["household_override"].reason == "Ok."
        assert response.context["household_form"] is None
        approve_row = next(r for r in response.context["transitions"] if r["name"] == "approve")
        assert approve_row["allowed"]

    def test_the_officer_is_warned_at_submit_and_cannot_override(self, world, client):
        world.application(approved=True)
        draft = world.application(submitted=True)
        verified_login(client, world.officer)
        response = client.get(reverse("application-detail", args=[draft.pk]))
        assert len(response.context["household_conflicts"]) == 1
        assert response.context["household_form"] is None
        response = client.post(reverse("application-household-override", args=[draft.pk]), {"reason": "x"})
        assert response.status_code == 403
        assert not HouseholdOverride.objects.exists()

    def test_finance_is_not_shown_the_household(self, world, client):
        world.application(approved=True)
        second = world.application(ready=True)
        verified_login(client, world.finance)
        response = client.get(reverse("application-detail", args=[second.pk]))
        assert "household_conflicts" not in response.context

    def test_an_empty_reason_is_refused_with_a_message(self, world, client):
        world.application(approved=True)
        second = world.application(ready=True)
        verified_login(client, world.manager)
        response = client.post(
            reverse("application-household-override", args=[second.pk]), {"reason": ""}, follow=True
        )
        assert "Give the reason for allowing a second grant." in [
            str(m) for m in response.context["messages"]
        ]
        assert not HouseholdOverride.objects.exists()


class TestApi:
    def url(self, app):
        return f"/api/v1/applications/{app.pk}/household-override/"

    def test_the_manager_reads_and_records_it(self, world, api):
        first = world.application(approved=True)
        second = world.application(ready=True)
        client = api(world.manager)
        response = client.get(self.url(second))
        assert response.status_code == 200
        assert response.json() == {
            "conflicts": [{"application": first.pk, "reason": "same_person"}],
            "override": None,
        }
        response = client.post(self.url(second), {"reason": "Separate premises."}, format="json")
        assert response.status_code == 201
        assert response.json()["reason"] == "Separate premises."
        assert client.get(self.url(second)).json()["override"]["created_by"] == world.manager.pk
        response = client.post(f"/api/v1/applications/{second.pk}/transitions/approve/", {}, format="json")
        assert response.status_code == 200 and response.json()["state"] == "approved"

    def test_without_override_the_approval_is_refused_naming_the_rule(self, world, api):
        world.application(approved=True)
        second = world.application(ready=True)
        response = api(world.manager).post(
            f"/api/v1/applications/{second.pk}/transitions/approve/", {}, format="json"
        )
        assert response.status_code == 400
        assert "same person" in response.json()["detail"]

    @pytest.mark.parametrize(
        ("who", "code"), [("officer", 403), ("finance", 403), ("auditor", 403), ("applicant2", 404)]
    )
    def test_other_roles_cannot_record_it(self, world, api, who, code):
        second = world.application(ready=True)
        response = api(getattr(world, who)).post(self.url(second), {"reason": "x"}, format="json")
        assert response.status_code == code
        assert not HouseholdOverride.objects.exists()

    def test_a_missing_reason_is_a_400(self, world, api):
        response = api(world.manager).post(self.url(world.application(ready=True)), {}, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
