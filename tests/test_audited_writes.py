"""Every write that changes a grant's facts leaves an audit event, and a change keeps the
value it replaced.

Three checks, each failing for a new unaudited write:
- every model of grants, applicants and assessments is either a grant fact or listed
  below as not one, with the reason;
- every write path (services, admin, management commands) is run here with the SQL it
  sends recorded: one that writes a fact table without inserting an audit event fails,
  as does one that changes or deletes facts without a before and after; and together
  the paths write every fact table, so a fact model with no audited path here fails;
- every public function of the service modules and every management command that
  writes calls the audit trail (read from their source), so a new service or command
  cannot be added without an event, or without a line in the allowlist saying why.
"""

import ast
import datetime
import inspect
import io
import re
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction

from applicants import institutions
from applicants import services as applicant_services
from applicants.models import DuplicateFlag
from assessments import services as assessment_services
from assessments.models import Attendance, TrainingCohort
from grants import documents, services
from grants.models import AuditEvent, DeliveryLine, GrantApplication, Programme
from grants.services import procurement
from privacy import subjects

from .conftest import verified_login
from .factories import (
    PDF_BYTES,
    ApplicantFactory,
    DocumentFactory,
    DuplicateFlagFactory,
    ExchangeRateFactory,
    SupplierFactory,
    SupplierQuoteFactory,
    TrainingCohortFactory,
    quote_file,
    staff,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
APPS = ("grants", "applicants", "assessments", "selection", "complaints")

FACTS = {
    "grants.Programme",
    "grants.Call",
    "grants.GrantApplication",
    "grants.EquipmentItem",
    "grants.Commitment",
    "grants.ExchangeRate",
    "grants.CostReapproval",
    "grants.Delivery",
    "grants.DeliveryLine",
    "grants.Document",
    "grants.GrantContract",
    "grants.ContributionPayment",
    "grants.Supplier",
    "grants.ConflictDeclaration",
    "grants.SupplierQuote",
    "grants.PurchaseOrder",
    "grants.HouseholdOverride",
    "grants.CooperativeMember",
    "grants.CaseTransfer",
    "grants.ProgrammeScope",
    "applicants.Applicant",
    "applicants.ApplicantSensitive",
    "applicants.Institution",
    "applicants.DuplicateFlag",
    "applicants.StaffAssignment",
    "assessments.RubricCriterion",
    "assessments.Assessment",
    "assessments.AssessmentScore",
    "assessments.TrainingCohort",
    "assessments.TrainingSession",
    "assessments.Enrolment",
    "assessments.Attendance",
    "assessments.MonitoringVisit",
    "assessments.SessionHeadcount",
    "assessments.TrainingMeeting",
    "selection.Committee",
    "selection.CommitteeMember",
    "selection.Declaration",
    "selection.Scoring",
    "selection.ScoringLine",
    "selection.ReserveOffer",
    "complaints.Complaint",
    "complaints.ComplaintNote",
    "complaints.ComplaintAttachment",
}
NOT_FACTS = {
    "grants.AuditEvent": "the trail itself",
    "applicants.ServiceAccount": "an integration's account (its key an ApiToken, hashed), not a grant fact; "
    "creating, rotating and revoking one are audited (service_account_*)",
    "applicants.ApiToken": "a sign-in credential (its key hashed), not a grant fact; issuing and revoking "
    "are audited (api_token_issued, api_token_revoked)",
    "grants.AuditText": "the trail's free texts, written with their event",
    "grants.AuditChainHead": "the trail's newest hash, written with each event",
    "grants.Notification": "the outbox: messages about events already recorded",
    "grants.GrantApplicationUserObjectPermission": "who may open an application: follows from "
    "its creation and assignment, which are audited",
    "grants.GrantApplicationGroupObjectPermission": "not used for grants: roles are groups",
    "applicants.Country": "reference data set up with the service",
    "grants.RegionalProgramme": "a name for one donor's country programmes together, set up by "
    "superusers in the admin (its log keeps the change); a programme joining one is audited with the "
    "programme's facts (programme_changed)",
    "applicants.ReferralInstitution": "reference data (the list officers choose the referring "
    "institution from), managed in the admin",
    "applicants.IntegrationCentre": "places, set up by superusers; no grant fact",
    "applicants.IntegrationCentreUserObjectPermission": "follows from staff assignments, audited",
    "applicants.IntegrationCentreGroupObjectPermission": "not used: roles are groups",
    "applicants.ApplicantUserObjectPermission": "the applicant's view of their own record, "
    "given with the registration, which is audited",
    "applicants.ApplicantGroupObjectPermission": "not used: roles are groups",
    "applicants.StaffProfile": "a staff member's own phone for reminders, set in the admin (its log "
    "keeps the change); an opt-out by STOP is audited (contact_channels_changed)",
    "applicants.ReferralPartner": "reference data (outside organisations and their accounts) set up by "
    "superusers, like the centres; recording who referred a person is audited (referral_recorded)",
    "applicants.ConsentRecord": "itself the record of consent: written once with its time, "
    "wording and who recorded it, with the audited registration",
}


def label(model):
    return f"{model._meta.app_label}.{model.__name__}"


def fact_tables():
    return {apps.get_model(name)._meta.db_table for name in FACTS}


def test_every_model_is_a_fact_or_says_why_not():
    models = {label(m) for app in APPS for m in apps.get_app_config(app).get_models()}
    unclassified = models - FACTS - set(NOT_FACTS)
    assert not unclassified, f"say whether these hold grant facts (FACTS or NOT_FACTS): {unclassified}"
    assert not FACTS & set(NOT_FACTS)
    assert not (FACTS | set(NOT_FACTS)) - models


# ---- the write paths, run with their SQL recorded ------------------------------------

WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


class Recorder:
    """The tables each statement wrote, while `during()` is open."""

    def __init__(self):
        self.writes = []

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match:
            self.writes.append((match.group(1).split()[0].upper(), match.group(2)))
        return execute(sql, params, many, context)

    @contextmanager
    def during(self):
        with connection.execute_wrapper(self):
            yield


PATHS = {}


def path(function):
    PATHS[function.__name__] = function
    return function


def app_in(world, **state):
    return world.application(**state)


@path
def create_application(world, during):
    with during():
        services.create_application(
            by=world.applicant,
            applicant=world.person,
            programme=world.programme,
            business_name="Bakery",
            sector="food",
            items=[{"description": "Oven", "quantity": 1, "unit_cost": "900.00"}],
        )


@path
def update_draft(world, during):
    app = app_in(world)
    item = app.items.first()
    with during():
        services.update_draft(
            application=app,
            by=world.applicant,
            items=[{"id": item.pk, "description": item.description, "quantity": 2, "unit_cost": "610.00"}],
        )


@path
def transition_submit(world, during):
    app = app_in(world)
    with during():
        services.take_transition(application=app, name="submit", by=world.applicant)


@path
def transition_approve(world, during):
    app = app_in(world, ready=True)
    with during():
        services.take_transition(application=app, name="approve", by=world.manager, comment="Sound plan.")


@path
def record_headcount(world, during):
    Programme.objects.filter(pk=world.programme.pk).update(anonymous_training=True)
    world.programme.refresh_from_db()
    cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre)
    with during():
        assessment_services.record_headcount(
            by=world.officer, session=cohort.sessions.first(), counts={("female", ""): 4}
        )


@path
def record_meeting(world, during):
    with during():
        assessment_services.record_meeting(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            held_on=TODAY - datetime.timedelta(days=3),
            kind="network",
            participants=14,
        )


@path
def record_household_override(world, during):
    app = app_in(world, ready=True)
    with during():
        services.record_household_override(application=app, by=world.manager, reason="Separate premises.")


@path
def add_and_remove_member(world, during):
    app = app_in(world, is_cooperative=True)
    member = ApplicantFactory(centre=world.centre)
    with during():
        services.add_member(application=app, by=world.officer, applicant_id=member.pk, role="founder")
        services.remove_member(application=app, by=world.officer, applicant_id=member.pk)


@path
def set_cooperative(world, during):
    app = app_in(world)
    with during():
        services.set_cooperative(application=app, by=world.officer, is_cooperative=True, number="ZR-1")


@path
def transition_cancel(world, during):
    app = app_in(world, approved=True)
    with during():
        services.take_transition(application=app, name="cancel", by=world.manager, comment="Moved away.")


@path
def transition_start_follow_up(world, during):
    app = app_in(world, delivered=True)
    with during():
        services.take_transition(application=app, name="start_follow_up", by=world.officer)


@path
def transition_complete(world, during):
    app = app_in(world, completed=False, follow_up=True)
    app.visits.update(visited_on=TODAY, operating=True, equipment_in_use=True, jobs_owner=1)
    with during():
        services.take_transition(application=app, name="complete", by=world.officer)


@path
def reassign(world, during):
    app = app_in(world, submitted=True)
    with during():
        services.reassign_application(application=app, officer=world.colleague, by=world.manager)


@path
def record_delivery(world, during):
    app = app_in(world, approved=True)
    ExchangeRateFactory(currency=app.programme.currency, date=TODAY, units_per_eur=Decimal("1"))
    item = app.items.first()
    with during():
        services.record_delivery_lines(
            application=app,
            by=world.finance,
            delivered_on=TODAY,
            supplier="Tehno Alat",
            invoice_number="INV-9",
            lines=[{"item": item.pk, "quantity": 1, "actual_unit_cost": "600.00"}],
        )


@path
def print_contract(world, during):
    app = app_in(world, approved=True)
    with during():
        services.contract_pdf_for(application=app, by=world.finance)


@path
def signed_contract_upload(world, during):
    app = app_in(world, approved=True)
    with during():
        documents.upload_document(
            application=app,
            by=world.finance,
            kind="signed_contract",
            uploaded_file=SimpleUploadedFile("signed.pdf", PDF_BYTES + b"%signed", "application/pdf"),
        )


@path
def contribution_paid_and_reversed(world, during):
    app = app_in(world, approved=True)
    Programme.objects.filter(pk=app.programme_id).update(own_contribution_percent=Decimal("15"))
    app = GrantApplication.objects.get(pk=app.pk)
    with during():
        payment = services.record_contribution_payment(
            application=app, by=world.finance, amount="10.00", paid_on=TODAY, reference="BS 1"
        )
        services.reverse_contribution_payment(payment=payment, by=world.manager, reason="Wrong grant.")


@path
def registration_recorded(world, during):
    app = app_in(world, approved=True)
    with during():
        services.record_registration(
            application=app, by=world.officer, number="81012345", registered_on=TODAY
        )


@path
def supplier_registered_and_vetted(world, during):
    buyer = staff("procurement_officer", world.centre, username="buyer")
    with during():
        supplier = procurement.save_supplier(
            by=buyer, name="Alati", tax_number="123", address="Niš", iban="RS35260005601001611379"
        )
        procurement.vet_supplier(supplier=supplier, by=buyer, status="approved")


@path
def supplier_changed(world, during):
    buyer = staff("procurement_officer", world.centre, username="buyer")
    supplier = SupplierFactory()
    with during():
        procurement.save_supplier(
            by=buyer, supplier=supplier, name="Renamed", tax_number=supplier.tax_number,
            address=supplier.address, iban="XK051212012345678906",
        )  # fmt: skip


@path
def conflict_declared_again(world, during):
    supplier = SupplierFactory()
    procurement.declare_conflict(by=world.finance, supplier=supplier, note="Cousin")
    with during():
        procurement.declare_conflict(by=world.finance, supplier=supplier, note="Cousin, still")


@path
def quote_added(world, during):
    buyer = staff("procurement_officer", world.centre, username="buyer")
    item = app_in(world, approved=True).items.first()
    with during():
        procurement.add_quote(
            item=item, by=buyer, supplier=SupplierFactory(), unit_price="600.00", quoted_on=TODAY,
            valid_until=TODAY, uploaded_file=quote_file(),
        )  # fmt: skip


@path
def quote_chosen_ordered_and_approved(world, during):
    buyer = staff("procurement_officer", world.centre, username="buyer")
    buyer2 = staff("procurement_officer", world.centre, username="buyer2")
    item = app_in(world, approved=True, items=[("Oven", 1, "500.00")]).items.first()
    quote = SupplierQuoteFactory(item=item, unit_price="480.00")
    with during():
        procurement.choose_quote(quote=quote, by=buyer)
        order = procurement.create_purchase_order(
            application=item.application, supplier=quote.supplier, by=buyer
        )
        procurement.approve_purchase_order(order=order, by=buyer2)
        procurement.approve_purchase_order(order=order, by=world.finance)


@path
def reapprove_delivery_cost(world, during):
    app = app_in(world, approved=True)
    with during():
        services.reapprove_cost(application=app, by=world.manager, limit="2000.00", reason="Dearer.")


@path
def discontinue_with_reallocation(world, during):
    app = app_in(world, follow_up=True)
    other = app_in(world, approved=True, applicant=ApplicantFactory(centre=world.centre))
    first, *rest = DeliveryLine.objects.filter(delivery__application=app)
    outcomes = [{"line": first.pk, "outcome": "reallocated", "to_item": other.items.first().pk}]
    outcomes += [{"line": line.pk, "outcome": "lost"} for line in rest]
    with during():
        services.discontinue_grant(application=app, by=world.officer, comment="Closed.", outcomes=outcomes)


@path
def load_rates_command(world, during, tmp_path):
    ExchangeRateFactory(currency="RSD", date=TODAY, units_per_eur=Decimal("117"))
    file = tmp_path / "rates.csv"
    file.write_text(f"currency,date,units_per_eur\nRSD,{TODAY},117.5\nALL,{TODAY},98.4\n")
    with during():
        call_command("load_rates", str(file), stdout=io.StringIO())


@path
def create_cohort(world, during):
    with during():
        assessment_services.create_cohort(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            title="Start your business",
            session_dates=[TODAY, TODAY + datetime.timedelta(days=7)],
        )


@path
def enrol(world, during):
    app = app_in(world, submitted=True)
    cohort = TrainingCohort.objects.create(programme=world.programme, centre=world.centre, title="Course")
    with during():
        assessment_services.enrol(by=world.officer, cohort=cohort, application=app)


@path
def attendance_corrected(world, during):
    app = app_in(world, training=True)
    attendance = Attendance.objects.filter(enrolment__application=app).select_related("session").first()
    with during():
        assessment_services.record_attendance(
            by=world.officer, session=attendance.session, application=app, present=False
        )


@path
def record_assessment(world, during):
    app = app_in(world, ready=True)
    with during():
        assessment_services.record_assessment(
            by=world.officer,
            application=app,
            scores={"viability": 5, "skills": 4, "market": 3, "need": 2, "commitment": 1},
            recommendation="revise",
            reasons="Needs a supplier quote.",
        )


@path
def record_visit_again(world, during):
    app = app_in(world, follow_up=True, state_facts__delivered_on=TODAY - datetime.timedelta(days=95))
    visit = app.visits.order_by("months").first()
    assessment_services.record_visit(
        by=world.officer, visit=visit, visited_on=TODAY, operating=True, equipment_in_use=True
    )
    with during():
        assessment_services.record_visit(
            by=world.officer, visit=visit, visited_on=TODAY, operating=False, equipment_in_use=False
        )


@path
def upload_document(world, during):
    app = app_in(world)
    with during():
        documents.upload_document(
            application=app,
            by=world.applicant,
            kind="business_plan",
            uploaded_file=SimpleUploadedFile("plan.pdf", PDF_BYTES, "application/pdf"),
        )


@path
def delete_document(world, during):
    app = app_in(world)
    document = documents.upload_document(
        application=app,
        by=world.applicant,
        kind="business_plan",
        uploaded_file=SimpleUploadedFile("plan.pdf", PDF_BYTES, "application/pdf"),
    )
    with during():
        documents.delete_document(document=document, by=world.applicant)


@path
def sweep_orphans_command(world, during):
    lost = DocumentFactory(application=app_in(world))
    default_storage.delete(lost.file.name)
    with during():
        call_command("sweep_orphans", "--delete", stdout=io.StringIO())


@path
def register_applicant(world, during):
    ApplicantFactory(centre=world.centre, phone="+381641112233")
    with during():
        applicant_services.register_applicant(
            by=world.officer,
            first_name="Jelena",
            last_name="Nikolić",
            date_of_birth=datetime.date(1985, 7, 9),
            centre=world.centre,
            target_groups=["former_inmate"],
            phone="+381641112233",
            consent_given=True,
            special_consents=["prison"],
            sensitive={"referral_institution": "Probation office"},
        )


@path
def register_institution(world, during):
    with during():
        institutions.register_institution(
            by=world.officer,
            centre=world.centre,
            name="Carpentry workshop",
            kind="prison_workshop",
            contact_first_name="Dragan",
            contact_last_name="Ilić",
            contact_date_of_birth=datetime.date(1975, 4, 1),
            consent_given=True,
        )


@path
def admin_institution_change_and_delete(world, during, client):
    from .factories import InstitutionFactory

    kept = InstitutionFactory(centre=world.centre, name="Carpentry workshop")
    mistaken = InstitutionFactory(centre=world.centre, name="Typo workshop")
    world.manager.is_staff = True
    world.manager.save(update_fields=["is_staff"])
    verified_login(client, world.manager)
    form = {"name": "Carpentry workshop Niš", "kind": "vocational_school", "registration_number": "07123456"}
    form |= {"address": "Bulevar 12", "municipality": "Niš"}
    with during():
        changed = client.post(f"/admin/applicants/institution/{kept.pk}/change/", form)
        deleted = client.post(f"/admin/applicants/institution/{mistaken.pk}/delete/", {"post": "yes"})
    assert (changed.status_code, deleted.status_code) == (302, 302)


@path
def decide_duplicate(world, during):
    flag = DuplicateFlagFactory(applicant=world.person, other=ApplicantFactory(centre=world.centre))
    with during():
        applicant_services.decide_duplicate(
            flag=flag, decision=DuplicateFlag.Decision.SAME_PERSON, by=world.officer
        )


@path
def assign_staff_command(world, during):
    newcomer = staff("field_officer", username="newcomer")
    with during():
        call_command("assign_staff", newcomer.username, str(world.centre.pk), stdout=io.StringIO())


@path
def import_applicants_command(world, during, tmp_path):
    file = tmp_path / "people.csv"
    file.write_text(
        "first_name,last_name,date_of_birth,phone,target_groups,consent_given,household_size,language,special_consents\n"
        "Ana,Jović,1990-01-02,,returnee,yes,2,sr-latn,return\n"
    )
    with during():
        call_command(
            "import_applicants",
            str(file),
            "--centre",
            str(world.centre.pk),
            "--by",
            "officer",
            stdout=io.StringIO(),
        )


@path
def erase_applicant(world, during):
    app_in(world, completed=True)
    with during():
        subjects.erase_applicant(applicant=world.person, by=world.manager, reason="Asked in writing.")


@path
def admin_programme_and_rubric(world, during, client):
    root = staff("programme_manager", world.centre, username="root")
    root.is_superuser = root.is_staff = True
    root.save()
    verified_login(client, root)
    programme = Programme.objects.get(pk=world.programme.pk)
    rubric = list(programme.rubric.order_by("position", "id"))
    form = {
        "name": programme.name,
        "donor": programme.donor,
        "country": programme.country_id,
        "currency": programme.currency,
        "budget": "999999.00",
        "ceiling": str(programme.ceiling),
        "target_groups": '["returnee"]',
        "training_threshold": str(programme.training_threshold),
        "cost_tolerance": str(programme.cost_tolerance),
        "pass_mark": "3.50",
        "visit_months": "[3, 6]",
        "own_contribution_percent": "15",
        "contribution_due_days": "30",
        "contract_rule": "before_delivery",
        "contribution_rule": "",
        "registration_rule": "",
        "quotes_required": "3",
        "quote_threshold": "1000.00",
        "committee_result": "median",
        "list_approver": "programme_manager",
        "rubric-TOTAL_FORMS": str(len(rubric)),
        "rubric-INITIAL_FORMS": str(len(rubric)),
        "rubric-MIN_NUM_FORMS": "1",
        "rubric-MAX_NUM_FORMS": "1000",
    }
    call = programme.calls.get()
    form |= {
        "calls-TOTAL_FORMS": "1",
        "calls-INITIAL_FORMS": "1",
        "calls-MIN_NUM_FORMS": "1",
        "calls-MAX_NUM_FORMS": "1000",
        "calls-0-id": call.pk,
        "calls-0-programme": programme.pk,
        "calls-0-name": call.name,
        "calls-0-opens": call.opens.isoformat(),
        "calls-0-closes": call.closes.isoformat(),
        "calls-0-revision_deadline": "",
        "calls-0-budget": "500000.00",
    }
    for i, criterion in enumerate(rubric):
        form |= {
            f"rubric-{i}-id": criterion.pk,
            f"rubric-{i}-programme": programme.pk,
            f"rubric-{i}-position": criterion.position,
            f"rubric-{i}-criterion": criterion.criterion,
            f"rubric-{i}-label": criterion.label,
            f"rubric-{i}-weight": "0.40" if i == 0 else str(criterion.weight),
        }
    with during():
        response = client.post(f"/admin/grants/programme/{programme.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]


@path
def selection_committee_scores_list_and_reserve(world, during):
    from selection import services as selection_services

    from .factories import committee_member

    call = world.programme.calls.get()
    call.budget = Decimal("1100.00")
    call.save()
    member = committee_member("audited-member")
    funded, reserve = app_in(world, ready=True), app_in(world, ready=True)
    with during():
        selection_services.set_committee(call=call, chair=world.manager, members=[member], by=world.manager)
        for app, value in ((funded, 5), (reserve, 4)):
            for user in (world.manager, member):
                selection_services.declare(application=app, by=user, conflict=False)
                scores = {c.pk: value for c in app.programme.rubric.all()}
                selection_services.score(application=app, by=user, scores=scores)
        selection_services.approve_list(call=call, by=world.manager)
        services.take_transition(application=funded, name="cancel", by=world.manager, comment="Moved.")
        offer = reserve.reserve_offers.get()
        selection_services.decide_offer(offer=offer, by=world.manager, accept=False)


@path
def admin_reassign(world, during, client):
    app = app_in(world, submitted=True)
    world.manager.is_staff = True
    world.manager.save(update_fields=["is_staff"])
    verified_login(client, world.manager)
    page = client.get(f"/admin/grants/grantapplication/{app.pk}/change/")
    assert page.status_code == 200
    form = {"assigned_officer": world.colleague.pk, "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"}
    with during():
        client.post(f"/admin/grants/grantapplication/{app.pk}/change/", form)


@path
def case_transfers(world, during):
    from .factories import CentreFactory

    home = CentreFactory(country=world.serbia, name="Integration Centre Kraljevo")
    receiving = staff("field_officer", home, username="kraljevo-officer")
    app_in(world, submitted=True)
    other = ApplicantFactory(centre=world.centre)
    with during():
        services.transfer_case(applicant=world.person, to_centre=home, by=world.manager)
        asked = services.request_transfer(
            applicant_id=other.pk, date_of_birth=other.date_of_birth, to_centre=home, by=receiving
        )
        services.decline_transfer(transfer=asked, by=world.officer)
        asked = services.request_transfer(
            applicant_id=other.pk, date_of_birth=other.date_of_birth, to_centre=home, by=receiving
        )
        services.confirm_transfer(transfer=asked, by=world.officer)


@path
def programme_scopes(world, during):
    with during():
        services.set_programme_scope(user=world.auditor, donors=[world.programme.donor], by=None)
        services.set_programme_scope(user=world.auditor, programmes=[world.programme.pk], by=None)


@path
def record_referral(world, during):
    from applicants.models import ReferralPartner

    partner = ReferralPartner.objects.create(name="Roma association Niš", country=world.serbia)
    with during():
        applicant_services.record_referral(applicant=world.person, partner=partner, by=world.officer)
        applicant_services.record_referral(applicant=world.person, partner=None, by=world.officer)


@path
def complaint_submitted_answered_escalated_and_anonymised(world, during):
    from complaints import services as complaint_services
    from complaints.models import Complaint

    upload = SimpleUploadedFile("letter.pdf", PDF_BYTES, content_type="application/pdf")
    with during():
        complaint, _code = complaint_services.submit_complaint(
            by=None,
            channel="public_form",
            category="delay",
            description="Nobody came.",
            language="en",
            centre=world.centre,
            applicant=world.person,
            attachment=upload,
        )
        complaint_services.acknowledge_complaint(complaint=complaint, by=world.manager)
        complaint_services.add_note(complaint=complaint, by=world.manager, text="Called.")
    late, _code = complaint_services.submit_complaint(
        by=None, channel="letter", category="other", description="Late.", language="en", centre=world.centre
    )
    Complaint.objects.filter(pk=late.pk).update(
        acknowledge_by=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    )
    with during():
        complaint_services.resolve_complaint(complaint=complaint, by=world.manager, outcome="Came.")
        complaint_services.escalate_overdue()
        complaint_services.anonymise_complaints_of(applicant=world.person, reason="Asked.")


def run_path(name, world, request):
    recorder = Recorder()
    function = PATHS[name]
    wanted = [arg for arg in inspect.signature(function).parameters if arg not in ("world", "during")]
    extra = {arg: request.getfixturevalue(arg) for arg in wanted}
    function(world, recorder.during, **extra)
    return recorder.writes


# Events that change facts and rightly keep no "before".
WITHOUT_BEFORE = {
    "applicant_pseudonymised": "erasure: keeping what was erased would undo it; the event lists "
    "the applications and how many documents went",
}


def keeps_before(event):
    """A transition (its states before and after), a "before" in the data, or a list of
    changes that each keep theirs (rates loaded)."""
    if event.from_state != event.to_state or "before" in event.data or event.action in WITHOUT_BEFORE:
        return True
    return any(
        isinstance(rows, list) and rows and all(isinstance(r, dict) and "before" in r for r in rows)
        for rows in event.data.values()
    )


def problems_of(name, writes, events):
    facts = fact_tables()
    written = {table for _kind, table in writes if table in facts}
    changed = {table for kind, table in writes if table in facts and kind != "INSERT"}
    if not written:
        return written, [f"{name} wrote no grant fact: it does not belong in PATHS"]
    if ("INSERT", AuditEvent._meta.db_table) not in writes:
        return written, [f"{name} wrote {sorted(written)} without an audit event"]
    if changed and not any(keeps_before(e) for e in events):
        return written, [f"{name} changed {sorted(changed)} but no event keeps the before and after"]
    return written, []


@pytest.mark.parametrize("name", sorted(PATHS))
def test_the_write_path_is_audited(world, request, name):
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    writes = run_path(name, world, request)
    events = list(AuditEvent.objects.filter(id__gt=newest))
    _written, problems = problems_of(name, writes, events)
    assert not problems


def test_the_write_paths_cover_every_fact_model(world, request):
    """Each path in a savepoint rolled back after it, so they all run on the same world."""

    class Undo(Exception):
        pass

    covered = set()
    for name in sorted(PATHS):
        try:
            with transaction.atomic():
                covered |= {
                    table for _kind, table in run_path(name, world, request) if table in fact_tables()
                }
                raise Undo
        except Undo:
            pass
    missing = {label(m) for m in apps.get_models() if m._meta.db_table in fact_tables() - covered}
    assert not missing, f"no audited write path here writes {sorted(missing)}: add one to PATHS"


def test_a_path_that_writes_without_an_event_is_caught(world):
    recorder = Recorder()
    with recorder.during():
        Attendance.objects.filter(enrolment__application__applicant=world.person).update(present=False)
        world.application()
    _written, problems = problems_of("direct_writes", recorder.writes, [])
    assert problems and "without an audit event" in problems[0]


# ---- read from the source: every public write function calls the audit trail -----------

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    # Every part of the packages that write (a new part is checked without being listed).
    *sorted(
        str(p) for package in ("grants/services", "grants/documents") for p in Path(package).glob("[!_]*.py")
    ),
    "grants/handover.py",
    "applicants/services.py",
    "applicants/institutions.py",
    "privacy/subjects.py",
    "privacy/consents.py",
    "assessments/services.py",
    "assessments/certificates.py",
    "selection/services.py",
    "selection/minutes.py",
    "reports/services.py",
    "reports/generation.py",
    "complaints/services.py",
    "integrations/intake.py",
    *sorted(
        str(p)
        for app in (*APPS, "privacy", "demo")
        for p in Path(app, "management", "commands").glob("[!_]*.py")
    ),
]
WRITES = {
    "save",
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "update_or_create",
    "get_or_create",
}
AUDIT_CALLS = {"record"}
# Public functions that write without an event of their own, and why that is right.
UNAUDITED = {
    "grants/documents/files.py:discard_uncommitted": "removes the stored object of an upload whose row "
    "never committed: the request failed and said nothing was saved, so there is no fact to audit",
    "applicants/services.py:sync_staff_permissions": "guardian rows derived from the audited assignments",
    "applicants/services.py:record_consent": "the consent record is its own record (NOT_FACTS), written "
    "by the audited registration and consent renewal (privacy.consents)",
    "assessments/services.py:schedule_visits": "run by the audited start_follow_up transition",
    "assessments/services.py:close_unmade_visits": "run by the audited complete and discontinue transitions",
}


def _calls(node):
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _functions(tree):
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef):
                    yield f"{node.name}.{member.name}", member


def _reached(source):
    """{public function: every call it makes, directly or through the module's private
    helpers}; command methods count as public."""
    functions = dict(_functions(ast.parse(source)))
    calls = {name: _calls(node) for name, node in functions.items()}

    def reach(name, seen):
        seen.add(name)
        found = set(calls[name])
        for callee in calls[name]:
            if callee.startswith("_") and callee in calls and callee not in seen:
                found |= reach(callee, seen)
        return found

    public = [
        name
        for name in functions
        if (not name.split(".")[-1].startswith("_") or name == "Command.handle")
        and not name.endswith("add_arguments")
    ]
    return {name: reach(name, set()) for name in public}


def audited_functions(sources):
    """Names of the public functions that call the audit trail themselves."""
    return {
        name.split(".")[-1]
        for source in sources
        for name, reached in _reached(source).items()
        if reached & AUDIT_CALLS
    }


def unaudited_writers(source, module_name, audited=frozenset()):
    """Public functions (and command methods) that write, directly or through a private
    helper of the module, and neither call the audit trail nor an `audited` function."""
    return [
        f"{module_name}:{name}"
        for name, reached in _reached(source).items()
        if reached & WRITES and not reached & (AUDIT_CALLS | audited)
    ]


def test_every_public_write_function_calls_the_audit_trail():
    root = Path(__file__).resolve().parent.parent
    sources = {relative: (root / relative).read_text() for relative in SOURCES}
    audited = audited_functions(sources.values())
    found = []
    for relative, source in sources.items():
        found += unaudited_writers(source, relative, audited)
    missing = [name for name in found if name not in UNAUDITED]
    assert not missing, f"these write without an audit event (or a reason in UNAUDITED): {missing}"
    assert set(UNAUDITED) <= set(found), "UNAUDITED names a function that is now audited or gone"


def test_the_source_check_catches_a_new_unaudited_service():
    source = inspect.cleandoc(
        """
        def set_attendance(*, attendance, present):
            attendance.present = present
            attendance.save()

        def audited(*, thing, by):
            thing.save()
            audit.record(action="x", actor=by)
        """
    )
    assert unaudited_writers(source, "new.py") == ["new.py:set_attendance"]


# ---- what the events keep -----------------------------------------------------------------


def test_a_draft_edit_keeps_figures_before_and_after_and_names_the_texts_changed(world):
    app = world.application()
    item = app.items.order_by("position").first()
    services.update_draft(
        application=app,
        by=world.applicant,
        plan={"activity": "Marko sews for his neighbours.", "expected_monthly_revenue": "950.00"},
        items=[{"id": item.pk, "description": "Marko's machine", "quantity": 2, "unit_cost": "620.00"}],
    )
    event = AuditEvent.objects.get(application=app, action="edit")
    assert event.data["before"]["expected_monthly_revenue"] == "800.00"
    assert event.data["after"]["expected_monthly_revenue"] == "950.00"
    assert event.data["after"]["items"] == [[item.pk, 2, "620.00"]]
    assert event.data["text_changed"] == ["activity", "items"]
    assert "Marko" not in event.canonical()


def test_a_programme_change_keeps_only_what_changed(world):
    programme = Programme.objects.get(pk=world.programme.pk)
    old_budget = str(programme.budget)
    programme.budget = Decimal("1.00")
    services.save_programme(programme=programme, by=world.manager)
    services.save_programme(programme=programme, by=world.manager)
    event = AuditEvent.objects.get(action="programme_changed")
    assert event.data == {
        "programme": programme.pk,
        "before": {"budget": old_budget},
        "after": {"budget": "1.00"},
    }
