"""Roles, object permissions, staff assignments, four eyes and acting on behalf.

The role groups hold exactly docs/design.md's table; object permissions come from guardian's
direct foreign-key tables; a global model permission never turns into "every object";
assigning a staff member to a centre is one action; nobody approves what they assessed,
delivers what they approved, or acts on an application where they are the applicant;
an officer's actions for an applicant are recorded as done on their behalf, and the
applicant sees that in their history."""

import datetime
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from guardian.shortcuts import assign_perm, get_objects_for_user

from applicants import roles
from applicants import services as applicant_services
from applicants.models import ApplicantUserObjectPermission, StaffAssignment
from applicants.permissions import can_assign_staff, can_export_applicants, can_export_personal_data
from applicants.selectors import applicants_for, centre_ids, centres_for, forget_permissions
from assessments import services as assessment_services
from core.errors import NotAllowed, NotVisible
from grants import permissions, selectors, services
from grants.models import AuditEvent, Document, GrantApplication, GrantApplicationUserObjectPermission

from .factories import (
    PDF_BYTES,
    ApplicantFactory,
    DocumentFactory,
    TrainingCohortFactory,
    make_assessment,
    make_full_delivery,
    staff,
    today,
)

pytestmark = pytest.mark.django_db


def take(application, name, by, comment=""):
    return services.take_transition(application=application, name=name, by=by, comment=comment)


def fresh(user):
    return type(user).objects.get(pk=user.pk)


class TestRoleGroups:
    def test_each_group_holds_exactly_the_roles_permissions(self, db):
        for role, codes in roles.ROLE_PERMISSIONS.items():
            group = Group.objects.get(permissions__codename=f"role_{role}")
            held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
            assert held == set(codes), role

    def test_finance_never_gets_sensitive_facts_or_applicant_records(self, db):
        finance = set(roles.ROLE_PERMISSIONS[roles.FINANCE_OFFICER])
        assert not finance & {
            "grants.view_sensitive",
            "applicants.view_applicant",
            "applicants.export_personal_data",
        }

    def test_the_auditor_reads_reports_and_the_audit_trail_only(self, db):
        assert set(roles.ROLE_PERMISSIONS[roles.AUDITOR]) == {
            "applicants.role_auditor",
            "grants.view_programme",
            "grants.view_reports",
            "grants.view_auditevent",
            # the complaints register's counts, small ones withheld
            "complaints.view_complaint_register",
        }

    def test_a_role_is_recognised_by_its_permission_not_the_groups_name(self, world):
        Group.objects.filter(permissions__codename="role_field_officer").update(name="Terenski saradnici")
        assert roles.has_role(fresh(world.officer), roles.FIELD_OFFICER)
        impostor = Group.objects.create(name="Field officers")
        user = ApplicantFactory(with_user=True).user
        user.groups.add(impostor)
        assert not roles.has_role(fresh(user), roles.FIELD_OFFICER)

    def test_the_migration_can_run_again_without_duplicating_groups(self, db):
        from django.apps import apps

        from applicants.role_setup import sync_role_groups

        Group.objects.filter(permissions__codename="role_auditor").update(name="Revizori")
        before = Group.objects.count()
        sync_role_groups(apps)
        assert Group.objects.count() == before
        assert Group.objects.get(permissions__codename="role_auditor").name == "Revizori"


class TestObjectPermissions:
    def test_global_permissions_never_mean_every_object(self, world):
        """Every field officer holds the model permission to view applications; guardian's
        get_objects_for_user with its default accept_global_perms=True would turn that into
        every application of every centre. The selectors and the object checks never do."""
        here = world.application()
        there = world.application(applicant=world.person2, programme=world.other_programme)
        officer = fresh(world.officer)
        assert officer.has_perm("grants.view_grantapplication")
        assert set(get_objects_for_user(officer, "grants.view_grantapplication", GrantApplication)) == {
            here,
            there,
        }
        assert list(selectors.applications_for(officer)) == [here]
        assert not officer.has_perm("grants.view_grantapplication", there)
        assert permissions.can_view_application(officer, there) == permissions.NOT_VISIBLE

    def test_an_applicant_holds_permissions_on_their_own_records(self, world):
        centre = world.centre
        officer = fresh(world.officer)
        user = ApplicantFactory(with_user=True).user
        user.applicant.delete()
        person = applicant_services.register_applicant(
            by=user,
            user=user,
            first_name="Ana",
            last_name="Nova",
            date_of_birth=datetime.date(1992, 1, 1),
            centre=centre,
            target_groups=["returnee"],
            consent_given=True,
            special_consents=["return"],
        )
        assert ApplicantUserObjectPermission.objects.filter(user=user, content_object=person).exists()
        assert list(applicants_for(fresh(user))) == [person]

        application = services.create_application(
            by=officer, applicant=person, programme=world.programme, business_name="Bakery", sector="food"
        )
        granted = set(
            GrantApplicationUserObjectPermission.objects.filter(content_object=application).values_list(
                "user__username", "permission__codename"
            )
        )
        assert granted == {
            (user.username, "view_grantapplication"),
            (user.username, "change_grantapplication"),
        }
        assert list(selectors.applications_for(fresh(user))) == [application]
        assert list(selectors.applications_for(fresh(world.applicant2))) == []

    def test_cooperative_members_see_the_application_too(self, world):
        member = ApplicantFactory(centre=world.centre, with_user=True)
        application = services.create_application(
            by=fresh(world.officer),
            applicant=world.person,
            programme=world.programme,
            business_name="Cooperative bakery",
            sector="food",
            is_cooperative=True,
            members=[member],
        )
        assert list(selectors.applications_for(fresh(member.user))) == [application]

    def test_centre_access_through_a_group_counts(self, world):
        group = Group.objects.create(name="Prizren team")
        assign_perm("applicants.access_centre", group, world.other_centre)
        officer = fresh(world.officer)
        officer.groups.add(group)
        officer = fresh(officer)
        assert centre_ids(officer) == {world.centre.pk, world.other_centre.pk}
        assert set(centres_for(officer)) == {world.centre, world.other_centre}

    def test_finance_and_the_auditor_list_no_applicants(self, world):
        assert list(applicants_for(fresh(world.finance))) == []
        assert list(applicants_for(fresh(world.auditor))) == []
        assert set(applicants_for(fresh(world.officer))) == {world.person}


class TestStaffAssignment:
    def run(self, *args):
        out = io.StringIO()
        call_command("assign_staff", *args, stdout=out)
        return out.getvalue()

    def test_one_command_gives_the_centre_and_everything_in_it(self, world):
        newcomer = staff(roles.FIELD_OFFICER, username="newcomer")
        app = world.application(applicant=world.person2, programme=world.other_programme)
        assert list(selectors.applications_for(fresh(newcomer))) == []

        output = self.run("newcomer", str(world.other_centre.pk), "--by", "manager")

        assert "now works for Integration Centre Prizren" in output
        assert StaffAssignment.objects.filter(user=newcomer, centre=world.other_centre).exists()
        assert list(selectors.applications_for(fresh(newcomer))) == [app]
        event = AuditEvent.objects.get(action="staff_assigned")
        assert (event.actor, event.data) == (
            world.manager,
            {"user": newcomer.pk, "centre": world.other_centre.pk},
        )

    def test_removing_takes_everything_away_and_names_work_left_behind(self, world):
        world.application()
        output = self.run("officer", str(world.centre.pk), "--remove")

        assert "no longer works for Integration Centre Niš" in output
        assert "1 application(s)" in output
        officer = fresh(world.officer)
        assert not StaffAssignment.objects.filter(user=officer, centre=world.centre).exists()
        assert centre_ids(officer) == frozenset()
        assert list(selectors.applications_for(officer)) == []
        assert AuditEvent.objects.filter(action="staff_unassigned").count() == 1

    def test_assigning_twice_changes_nothing(self, world):
        output = self.run("officer", str(world.centre.pk))
        assert "already works for" in output
        assert StaffAssignment.objects.filter(user=world.officer).count() == 1
        assert not AuditEvent.objects.filter(action="staff_assigned").exists()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["nobody", "1"], "No user named 'nobody'"),
            (["officer", "999"], "No centre with id '999'"),
            (["officer", "abc"], "No centre with id 'abc'"),
        ],
    )
    def test_bad_input_is_refused_with_a_sentence(self, world, args, message):
        with pytest.raises(CommandError, match=message):
            self.run(*args)
        assert not AuditEvent.objects.exists()

    def test_only_people_with_a_staff_role_can_be_assigned(self, world):
        with pytest.raises(CommandError, match="has no staff role"):
            self.run(world.applicant.username, str(world.centre.pk))
        assert not StaffAssignment.objects.filter(user=world.applicant).exists()
        assert not fresh(world.applicant).has_perm("applicants.access_centre", world.centre)

    def test_on_someones_instruction_they_must_be_allowed_to_give_it(self, world):
        manager_here = staff(roles.PROGRAMME_MANAGER, world.centre, username="manager-niš")
        newcomer = staff(roles.FIELD_OFFICER, username="newcomer")
        with pytest.raises(CommandError, match="No centre"):
            self.run("newcomer", str(world.other_centre.pk), "--by", manager_here.username)
        with pytest.raises(CommandError, match="Only programme managers"):
            self.run("newcomer", str(world.centre.pk), "--by", "officer")
        assert centre_ids(fresh(newcomer)) == frozenset()

    def test_the_decision_names_the_reason(self, world):
        decision = can_assign_staff(fresh(world.officer), user=world.colleague, centre=world.centre)
        assert not decision.allowed
        assert "programme managers" in str(decision.reason)

    def test_cached_permissions_are_forgotten_after_a_change(self, world):
        officer = fresh(world.officer)
        assert centre_ids(officer) == {world.centre.pk}
        applicant_services.assign_staff(user=officer, centre=world.other_centre, by=None)
        forget_permissions(officer)
        assert centre_ids(officer) == {world.centre.pk, world.other_centre.pk}

    def test_repair_makes_guardians_rows_the_assignments(self, world):
        assign_perm("applicants.access_centre", world.officer, world.other_centre)
        applicant_services.sync_staff_permissions(user=world.officer)
        assert centre_ids(fresh(world.officer)) == {world.centre.pk}


class TestFourEyes:
    def test_whoever_assessed_cannot_approve_even_an_earlier_assessment(self, world):
        app = world.application(ready=True, state_facts__assessor=world.colleague)
        manager = fresh(world.manager)
        make_assessment(app, assessor=manager)
        make_assessment(app, assessor=world.colleague)  # the current one is someone else's
        with pytest.raises(NotAllowed) as excinfo:
            take(app, "approve", manager)
        assert "another person must approve" in str(excinfo.value)
        app.refresh_from_db()
        assert app.state == "business_training"

    def test_whoever_approved_cannot_record_the_delivery(self, world):
        finance = fresh(world.finance)
        app = world.application(approved=True, state_facts__approver=finance)
        make_full_delivery(app, delivered_on=today())
        decision = permissions.can_transition(finance, app, "record_delivery")
        assert not decision.allowed
        assert "another person must record" in str(decision.reason)
        with pytest.raises(NotAllowed):
            take(app, "record_delivery", finance)
        assert permissions.can_transition(fresh(world.officer), app, "record_delivery").allowed

    def test_staff_never_act_on_their_own_application(self, world):
        own = ApplicantFactory(centre=world.centre, user=world.colleague)
        colleague = fresh(world.colleague)
        draft = world.application(applicant=own)
        submitted = world.application(applicant=own, submitted=True)
        cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre)

        assert not permissions.can_edit_application(colleague, draft).allowed
        with pytest.raises(NotAllowed):
            take(draft, "submit", colleague)
        with pytest.raises(NotAllowed):
            assessment_services.enrol(by=colleague, cohort=cohort, application=submitted)
        with pytest.raises(NotAllowed):
            assessment_services.record_assessment(
                by=colleague, application=submitted, scores={}, recommendation="approve"
            )
        assert not permissions.can_reassign(fresh(world.manager), draft, colleague).allowed
        assert not AuditEvent.objects.filter(actor=colleague).exists()

    def test_nor_on_one_where_they_are_a_cooperative_member(self, world):
        member = ApplicantFactory(centre=world.centre, user=world.colleague)
        app = world.application(submitted=True, is_cooperative=True)
        app.members.add(member)
        decision = permissions.can_transition(fresh(world.colleague), app, "reject")
        assert (decision.allowed, str(decision.reason)) == (False, "You cannot act on your own application.")

    def test_staff_who_are_not_members_act_on_a_cooperative(self, world):
        """The look-alike: a cooperative with members, one of them a colleague. Only the
        member is a party; the other staff of the centre work on it as on any other."""
        app = world.application(submitted=True, is_cooperative=True)
        app.members.add(
            ApplicantFactory(centre=world.centre), ApplicantFactory(centre=world.centre, user=world.colleague)
        )
        officer, manager = fresh(world.officer), fresh(world.manager)

        assert (permissions.is_party(officer, app), permissions.is_party(world.colleague, app)) == (
            False,
            True,
        )
        assert permissions.can_transition(manager, app, "reject").allowed
        assert permissions.can_reassign(manager, app, officer).allowed
        cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre)
        enrolment = assessment_services.enrol(by=officer, cohort=cohort, application=app)
        assert enrolment.active
        assessment = assessment_services.record_assessment(
            by=officer, application=app, scores={"viability": 4}, recommendation="approve"
        )
        assert assessment.assessor == world.officer
        app = take(app, "admit_to_training", officer)
        assert app.state == "business_training"

    def test_a_cooperatives_member_who_is_not_its_lead_is_a_party_too(self, world):
        member = ApplicantFactory(centre=world.centre, user=world.officer)
        app = world.application(submitted=True, is_cooperative=True)
        app.members.add(member)
        cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre)
        with pytest.raises(NotAllowed):
            assessment_services.enrol(by=fresh(world.officer), cohort=cohort, application=app)
        assert not permissions.can_reassign(fresh(world.manager), app, fresh(world.officer)).allowed


class TestJustInsideAndJustOutside:
    """Each permission function with the user who just may and the look-alike who may
    not (README "Mutation testing")."""

    def decision(self, check, *args, **kwargs):
        decision = check(*args, **kwargs)
        return (decision.allowed, str(decision.reason))

    def test_editing_role_by_role(self, world):
        draft, submitted = world.application(), world.application(submitted=True)
        for user in (world.officer, world.applicant):
            assert permissions.can_edit_application(fresh(user), draft).allowed
        for user in (world.manager, world.finance):
            assert self.decision(permissions.can_edit_application, fresh(user), draft) == (
                False,
                "Your role cannot edit applications.",
            )
        for user in (world.officer, world.applicant):
            assert self.decision(permissions.can_edit_application, fresh(user), submitted) == (
                False,
                "Only a draft can be edited.",
            )

    def test_reassigning_role_by_role(self, world):
        app = world.application(submitted=True)
        manager = fresh(world.manager)
        assert permissions.can_reassign(manager, app, fresh(world.colleague)).allowed
        for officer in (world.officer2, world.finance):
            assert self.decision(permissions.can_reassign, manager, app, fresh(officer)) == (
                False,
                "Choose a field officer of the application's centre.",
            )
        assert not permissions.can_reassign(fresh(world.officer), app, fresh(world.colleague)).allowed

    def test_a_manager_who_is_a_cooperative_member_does_not_reassign_it(self, world):
        app = world.application(submitted=True, is_cooperative=True)
        app.members.add(ApplicantFactory(centre=world.centre, user=world.manager))
        assert self.decision(permissions.can_reassign, fresh(world.manager), app, fresh(world.colleague)) == (
            False,
            "You cannot act on your own application.",
        )

    def test_an_unknown_step_is_refused(self, world):
        app = world.application(submitted=True)
        assert self.decision(permissions.can_transition, fresh(world.manager), app, "fly") == (
            False,
            "Unknown action.",
        )

    def test_the_applicant_takes_only_their_steps_and_only_with_the_role(self, world):
        app = world.application()
        assert permissions.can_transition(fresh(world.applicant), app, "submit").allowed
        assert not permissions.can_transition(fresh(world.applicant), app, "reject").allowed
        world.applicant.groups.clear()
        assert self.decision(permissions.can_transition, fresh(world.applicant), app, "submit") == (
            False,
            "Only staff can take this step.",
        )

    def test_exports_role_by_role(self, world):
        def allowed(check):
            return {name: check(fresh(user)).allowed for name, user in self.roles(world).items()}

        assert allowed(can_export_applicants) == {
            "officer": True,
            "manager": True,
            "finance": False,
            "auditor": False,
            "applicant": False,
        }
        assert allowed(can_export_personal_data) == {
            "officer": False,
            "manager": True,
            "finance": False,
            "auditor": False,
            "applicant": False,
        }
        assert self.decision(can_export_personal_data, fresh(world.officer)) == (
            False,
            "Exporting personal data needs its own permission.",
        )

    def roles(self, world):
        return {
            "officer": world.officer,
            "manager": world.manager,
            "finance": world.finance,
            "auditor": world.auditor,
            "applicant": world.applicant,
        }

    def test_the_staff_assignment_permissions_alone_do_not_make_a_manager(self, world):
        officer = world.colleague
        officer.user_permissions.add(
            *Permission.objects.filter(codename__in=["add_staffassignment", "delete_staffassignment"])
        )
        assert self.decision(can_assign_staff, fresh(officer), user=world.finance, centre=world.centre) == (
            False,
            "Only programme managers assign staff to their centres.",
        )
        assert can_assign_staff(fresh(world.manager), user=world.finance, centre=world.centre).allowed
        assert (
            self.decision(can_assign_staff, fresh(world.manager), user=world.applicant, centre=world.centre)[
                0
            ]
            is False
        )

    def test_a_decision_cannot_be_changed_once_made(self):
        """ALLOWED and NOT_VISIBLE are shared by every check: nobody may turn them."""
        import dataclasses

        from applicants.permissions import ALLOWED

        with pytest.raises(dataclasses.FrozenInstanceError):
            ALLOWED.allowed = False

    def test_nobody_signed_out_owns_an_application(self, world):
        from django.contrib.auth.models import AnonymousUser

        assert permissions.is_own(AnonymousUser(), world.application()) is False

    def test_opening_a_document_role_by_role(self, world):
        app = world.application(submitted=True)
        plan = DocumentFactory(application=app, kind="business_plan")
        certificate = DocumentFactory(application=app, kind="release_certificate")

        def opens(user, document):
            return permissions.can_view_document(fresh(user), document).allowed

        assert (opens(world.officer, plan), opens(world.officer, certificate)) == (True, True)
        assert (opens(world.finance, plan), opens(world.finance, certificate)) == (True, False)
        assert (opens(world.applicant, plan), opens(world.applicant2, plan)) == (True, False)
        # Seeing the application is one layer, the role's reading documents the other.
        world.auditor.user_permissions.add(Permission.objects.get(codename="view_grantapplication"))
        assert self.decision(permissions.can_view_document, fresh(world.auditor), plan) == (
            False,
            "Your role cannot open documents.",
        )

    def test_listed_documents_role_by_role(self, world):
        app = world.application(submitted=True)
        Document.objects.filter(application=app).delete()
        plan = DocumentFactory(application=app, kind="business_plan")
        certificate = DocumentFactory(application=app, kind="release_certificate")

        def listed(user):
            return set(
                permissions.visible_documents(fresh(user), app, Document.objects.filter(application=app))
            )

        assert listed(world.auditor) == set()
        assert listed(world.finance) == {plan}
        assert listed(world.officer) == listed(world.applicant) == {plan, certificate}


class TestOnBehalf:
    def upload(self, application, by):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from grants import documents

        return documents.upload_document(
            application=application,
            by=by,
            kind="business_plan",
            uploaded_file=SimpleUploadedFile("plan.pdf", PDF_BYTES + b"%on behalf\n", "application/pdf"),
        )

    def test_an_officer_does_the_applicants_actions_and_the_trail_says_for_whom(self, world, api):
        officer = fresh(world.officer)
        client = api(officer)
        created = client.post(
            "/api/v1/applications/",
            {
                "applicant": world.person.pk,
                "programme": world.programme.pk,
                "business_name": "Bakery",
                "sector": "food",
                "plan": {
                    "activity": "Bread",
                    "market": "Village",
                    "expected_monthly_revenue": "900.00",
                    "expected_monthly_costs": "300.00",
                },
                "items": [{"description": "Oven", "quantity": 1, "unit_cost": "1200.00"}],
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        pk = created.json()["id"]
        application = GrantApplication.objects.get(pk=pk)
        assert (
            client.patch(
                f"/api/v1/applications/{pk}/", {"business_name": "Village bakery"}, format="json"
            ).status_code
            == 200
        )
        document = self.upload(application, officer)
        assert (
            client.post(f"/api/v1/applications/{pk}/transitions/submit/", {}, format="json").status_code
            == 200
        )
        assert (
            client.post(f"/api/v1/applications/{pk}/transitions/withdraw/", {}, format="json").status_code
            == 200
        )

        events = AuditEvent.objects.filter(application=application).order_by("id")
        assert [(e.action, e.actor, e.on_behalf_of) for e in events] == [
            ("create", officer, world.person),
            ("edit", officer, world.person),
            ("document_uploaded", officer, world.person),
            ("submit", officer, world.person),
            ("withdraw", officer, world.person),
        ]
        assert document.on_behalf_of == world.person

        history = api(fresh(world.applicant)).get(f"/api/v1/applications/{pk}/history/").json()["results"]
        assert [(row["action"], row["actor"], row["on_behalf_of"]) for row in history] == [
            (action, "officer", "Marko Demić")
            for action in ("create", "edit", "document_uploaded", "submit", "withdraw")
        ]

    def test_the_applicants_own_actions_are_not_on_behalf(self, world, api):
        app = world.application()
        take(app, "submit", fresh(world.applicant))
        history = api(fresh(world.applicant)).get(f"/api/v1/applications/{app.pk}/history/").json()["results"]
        assert [(row["action"], row["on_behalf_of"]) for row in history] == [("submit", None)]

    def test_an_officer_of_another_centre_cannot_act_for_the_applicant(self, world):
        app = world.application()
        with pytest.raises(NotVisible):
            take(app, "submit", fresh(world.officer2))
        with pytest.raises(NotVisible):
            self.upload(app, fresh(world.officer2))
        assert not Document.objects.filter(application=app).exists()

    def test_finances_own_work_is_not_on_behalf_of_anyone(self, world):
        app = world.application(approved=True)
        finance = fresh(world.finance)
        assert not permissions.acts_on_behalf(finance, app)
        assert permissions.acts_on_behalf(fresh(world.officer), app)
        assert not Permission.objects.filter(
            group__permissions__codename="role_finance_officer", codename="submit_application"
        ).exists()


class TestFinanceAccess:
    """The finance pages and one grant's ledger: finance officers and programme managers
    of the grant's centre; an officer, the auditor and the applicant are told no."""

    @pytest.mark.parametrize(
        ("who", "allowed"),
        [("finance", True), ("manager", True), ("officer", False), ("auditor", False), ("applicant", False)],
    )
    def test_the_finance_pages(self, world, who, allowed):
        assert permissions.can_view_finance(getattr(world, who)).allowed is allowed

    @pytest.mark.parametrize(
        ("who", "allowed"),
        [("finance", True), ("manager", True), ("officer", False), ("applicant", False)],
    )
    def test_a_grants_ledger_at_the_centre(self, world, who, allowed):
        application = world.application(approved=True)
        decision = permissions.can_view_ledger(getattr(world, who), application)
        assert (decision.allowed, decision.visible) == (allowed, True)
        if not allowed:
            assert decision.reason

    def test_a_ledger_of_another_centre_is_not_acknowledged(self, world):
        application = world.application(approved=True)
        decision = permissions.can_view_ledger(world.officer2, application)
        assert (decision.allowed, decision.visible) == (False, False)
