"""Cooperatives (issue 15): members added and removed on the web and through the API by
whoever may edit the draft, each a registered person the editor may see, with a role and
membership dates; each member's consent and target group checked at submission; members
follow the application; the figures count them."""

import datetime

import pytest
from django.urls import reverse
from guardian.shortcuts import get_perms

from applicants.models import ConsentRecord
from core.errors import NotAllowed, NotVisible, RuleNotMet, ServiceError
from grants import permissions, services
from grants.models import AuditEvent, CooperativeMember
from reports.figures.impact import impact_figures

from .conftest import verified_login
from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 1, 15)


def coop(world, **kwargs):
    return world.application(is_cooperative=True, **kwargs)


def person(world, **kwargs):
    kwargs.setdefault("centre", world.centre)
    kwargs.setdefault("first_name", "Jelena")
    return ApplicantFactory(**kwargs)


def add(app, by, member, **kwargs):
    return services.add_member(application=app, by=by, applicant_id=member.pk, **kwargs)


class TestMembers:
    def test_an_officer_adds_a_member_with_role_and_date_and_it_is_audited(self, world):
        app = coop(world)
        member = person(world, with_user=True)
        membership = add(app, world.officer, member, role="founder", joined_on=TODAY)
        assert (membership.role, membership.joined_on) == ("founder", TODAY)
        assert list(app.members.all()) == [member]
        event = AuditEvent.objects.get(application=app, action="member_added")
        assert event.data == {
            "before": {"members": []},
            "after": {"members": [[member.pk, "founder", "2026-01-15", None]]},
        }
        assert event.on_behalf_of == world.person
        assert get_perms(member.user, app) == ["view_grantapplication"]

    def test_removing_a_member_takes_away_their_view_and_is_audited(self, world):
        app = coop(world)
        member = person(world, with_user=True)
        add(app, world.officer, member)
        services.remove_member(application=app, by=world.officer, applicant_id=member.pk)
        assert not app.members.exists()
        assert get_perms(member.user, app) == []
        assert AuditEvent.objects.filter(application=app, action="member_removed").exists()

    def test_a_person_of_a_centre_the_officer_does_not_work_for_is_refused(self, world):
        app = coop(world)
        stranger = person(world, centre=world.other_centre)
        with pytest.raises(ServiceError) as excinfo:
            add(app, world.officer, stranger)
        assert excinfo.value.code == "unknown_person"
        assert not app.members.exists()

    def test_the_applicant_adds_a_member_by_number_and_birth_date(self, world):
        app = coop(world)
        member = person(world)
        with pytest.raises(ServiceError) as excinfo:
            add(app, world.applicant, member)
        assert excinfo.value.code == "unknown_person"
        with pytest.raises(ServiceError):
            add(app, world.applicant, member, date_of_birth=member.date_of_birth + datetime.timedelta(days=1))
        add(app, world.applicant, member, date_of_birth=member.date_of_birth)
        assert list(app.members.all()) == [member]

    def test_the_contact_person_and_duplicates_are_refused(self, world):
        app = coop(world)
        with pytest.raises(ServiceError) as excinfo:
            add(app, world.officer, world.person)
        assert excinfo.value.code == "contact_person"
        member = person(world)
        add(app, world.officer, member)
        with pytest.raises(ServiceError) as excinfo:
            add(app, world.officer, member)
        assert excinfo.value.code == "already_member"

    def test_only_a_cooperative_has_members(self, world):
        with pytest.raises(ServiceError) as excinfo:
            add(world.application(), world.officer, person(world))
        assert excinfo.value.code == "not_cooperative"

    def test_membership_dates_in_order(self, world):
        with pytest.raises(ServiceError):
            add(
                coop(world),
                world.officer,
                person(world),
                joined_on=TODAY,
                left_on=TODAY - datetime.timedelta(days=1),
            )

    @pytest.mark.parametrize("who", ["manager", "finance", "auditor", "applicant2"])
    def test_others_cannot_change_members(self, world, who):
        app = coop(world)
        with pytest.raises((NotAllowed, NotVisible)):
            add(app, getattr(world, who), person(world))
        assert not app.members.exists()

    def test_not_once_submitted(self, world):
        with pytest.raises(NotAllowed):
            add(coop(world, submitted=True), world.officer, person(world))

    def test_a_member_sees_the_application_but_neither_edits_nor_submits_it(self, world):
        app = coop(world)
        member = person(world, with_user=True)
        add(app, world.officer, member)
        assert permissions.can_view_application(member.user, app).allowed
        assert not permissions.can_edit_application(member.user, app).allowed
        assert not permissions.can_transition(member.user, app, "submit").allowed
        assert permissions.can_transition(world.applicant, app, "submit").allowed

    def test_the_registration_is_recorded_and_audited(self, world):
        app = world.application()
        services.set_cooperative(
            application=app, by=world.applicant, is_cooperative=True, number="ZR-123", registered_on=TODAY
        )
        app.refresh_from_db()
        assert (app.is_cooperative, app.cooperative_registration_number, app.cooperative_registered_on) == (
            True,
            "ZR-123",
            TODAY,
        )
        assert AuditEvent.objects.get(application=app, action="cooperative_changed").data["after"] == {
            "is_cooperative": True,
            "cooperative_registration_number": "ZR-123",
            "cooperative_registered_on": "2026-01-15",
        }
        add(app, world.officer, person(world))
        with pytest.raises(ServiceError) as excinfo:
            services.set_cooperative(application=app, by=world.applicant, is_cooperative=False)
        assert excinfo.value.code == "has_members"


class TestSubmit:
    def test_a_member_without_consent_blocks_submission_naming_them(self, world):
        app = coop(world)
        member = person(world, first_name="Jovana", last_name="Nikolić", consent=False)
        add(app, world.officer, person(world))
        add(app, world.officer, member)
        with pytest.raises(RuleNotMet) as excinfo:
            services.take_transition(application=app, name="submit", by=world.applicant)
        assert [code for code, _m in excinfo.value.rules] == ["consent_given"]
        assert "Jovana Nikolić" in str(excinfo.value)
        app.refresh_from_db()
        assert app.state == "draft"
        ConsentRecord.objects.create(applicant=member, wording="I agree.", version="t", language="en")
        assert (
            services.take_transition(application=app, name="submit", by=world.applicant).state == "submitted"
        )

    def test_a_withdrawn_consent_counts_as_none(self, world):
        app = coop(world)
        member = person(world, last_name="Withdrawn")
        member.consents.update(withdrawn_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC))
        add(app, world.officer, member)
        with pytest.raises(RuleNotMet) as excinfo:
            services.take_transition(application=app, name="submit", by=world.applicant)
        assert "Withdrawn" in str(excinfo.value)

    def test_a_member_outside_the_target_groups_blocks_submission_naming_them(self, world):
        world.programme.target_groups = ["returnee"]
        world.programme.save()
        app = coop(world)
        member = person(world, last_name="Ineligible", is_returnee=False, is_socially_disadvantaged=True)
        add(app, world.officer, member)
        with pytest.raises(RuleNotMet) as excinfo:
            services.take_transition(application=app, name="submit", by=world.applicant)
        assert [code for code, _m in excinfo.value.rules] == ["target_group_eligible"]
        assert "Ineligible" in str(excinfo.value)

    def test_the_contact_persons_own_sentence_is_unchanged(self, world):
        app = world.application()
        ConsentRecord.objects.filter(applicant=world.person).delete()
        with pytest.raises(RuleNotMet) as excinfo:
            services.take_transition(application=app, name="submit", by=world.applicant)
        assert str(excinfo.value) == "The applicant has not given consent to the use of their data."


class TestFigures:
    def test_members_of_a_supported_cooperative_count_as_families(self, world):
        app = coop(world, delivered=True)
        CooperativeMember.objects.create(application=app, applicant=person(world), role="founder")
        CooperativeMember.objects.create(application=app, applicant=person(world), left_on=TODAY)
        figures = impact_figures(world.manager)
        assert figures["cooperatives_supported"] == 1
        assert figures["families_with_non_cash_benefits"] == 3


class TestWeb:
    def test_the_officer_adds_and_removes_a_member_on_the_page(self, world, client):
        app = coop(world)
        member = person(world, last_name="Member")
        verified_login(client, world.officer)
        page = client.get(reverse("application-detail", args=[app.pk]))
        assert (
            page.context["member_form"] is not None
            and "date_of_birth" not in page.context["member_form"].fields
        )
        response = client.post(
            reverse("application-member-add", args=[app.pk]),
            {"applicant": member.pk, "role": "manager", "joined_on": "2026-01-15"},
        )
        assert response.status_code == 302
        assert CooperativeMember.objects.get(application=app).role == "manager"
        page = client.get(reverse("application-detail", args=[app.pk]))
        assert [m.applicant for m in page.context["memberships"]] == [member]
        response = client.post(reverse("application-member-remove", args=[app.pk, member.pk]))
        assert response.status_code == 302
        assert not app.members.exists()

    def test_the_applicant_adds_a_member_to_their_own_draft(self, world, client):
        app = world.application()
        member = person(world)
        client.force_login(world.applicant)
        client.post(
            reverse("application-cooperative", args=[app.pk]),
            {"is_cooperative": "on", "cooperative_registration_number": "ZR-9"},
        )
        page = client.get(reverse("application-detail", args=[app.pk]))
        assert page.context["member_form"].fields["date_of_birth"].required
        client.post(
            reverse("application-member-add", args=[app.pk]),
            {"applicant": member.pk, "date_of_birth": member.date_of_birth.isoformat(), "role": "member"},
        )
        assert list(app.members.all()) == [member]

    def test_a_refusal_is_said_and_nothing_changes(self, world, client):
        app = coop(world)
        stranger = person(world, centre=world.other_centre)
        verified_login(client, world.officer)
        response = client.post(
            reverse("application-member-add", args=[app.pk]),
            {"applicant": stranger.pk, "role": "member"},
            follow=True,
        )
        assert any("No registered person" in str(m) for m in response.context["messages"])
        assert not app.members.exists()

    def test_finance_cannot_add_members(self, world, client):
        app = coop(world)
        verified_login(client, world.finance)
        response = client.post(
            reverse("application-member-add", args=[app.pk]),
            {"applicant": person(world).pk, "role": "member"},
        )
        assert response.status_code == 403
        assert not app.members.exists()


class TestApi:
    def test_patch_sets_members_with_roles(self, world, api):
        app = coop(world)
        a, b = person(world), person(world)
        client = api(world.officer)
        response = client.patch(
            f"/api/v1/applications/{app.pk}/",
            {
                "members": [
                    {"applicant": a.pk, "role": "founder", "joined_on": "2025-05-01"},
                    {"applicant": b.pk},
                ],
                "cooperative_registration_number": "ZR-77",
            },
            format="json",
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["members"] == [
            {"applicant": a.pk, "role": "founder", "joined_on": "2025-05-01", "left_on": None},
            {"applicant": b.pk, "role": "member", "joined_on": None, "left_on": None},
        ]
        assert body["cooperative_registration_number"] == "ZR-77"
        response = client.patch(
            f"/api/v1/applications/{app.pk}/", {"members": [{"applicant": b.pk}]}, format="json"
        )
        assert [m["applicant"] for m in response.json()["members"]] == [b.pk]
        assert AuditEvent.objects.filter(application=app, action="members_changed").count() == 2

    def test_create_a_cooperative_with_members(self, world, api):
        member = person(world)
        response = api(world.officer).post(
            "/api/v1/applications/",
            {
                "programme": world.programme.pk,
                "applicant": world.person.pk,
                "business_name": "Bakers' cooperative",
                "sector": "food",
                "is_cooperative": True,
                "members": [{"applicant": member.pk, "role": "founder"}],
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["members"][0]["applicant"] == member.pk

    def test_a_person_the_caller_may_not_see_is_a_400_and_nothing_is_created(self, world, api):
        stranger = person(world, centre=world.other_centre)
        response = api(world.officer).post(
            "/api/v1/applications/",
            {
                "programme": world.programme.pk,
                "applicant": world.person.pk,
                "business_name": "Bakers' cooperative",
                "sector": "food",
                "is_cooperative": True,
                "members": [{"applicant": stranger.pk}],
            },
            format="json",
        )
        assert response.status_code == 400
        assert "members" in response.json()
        assert not world.person.applications.exists()

    def test_finance_cannot_set_members(self, world, api):
        app = coop(world)
        response = api(world.finance).patch(
            f"/api/v1/applications/{app.pk}/", {"members": [{"applicant": person(world).pk}]}, format="json"
        )
        assert response.status_code == 403
        assert not app.members.exists()
