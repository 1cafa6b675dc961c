"""factory_boy factories for every model, with traits per workflow state.

State traits build the facts each state implies (commitment for approved, deliveries and
a handover protocol for delivered, visits for follow-up), so tests start from records
that the workflow itself could have produced."""

import datetime
import itertools
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from factory.django import DjangoModelFactory
from guardian.shortcuts import assign_perm

from applicants import roles
from applicants.consent import CONSENT_VERSION
from applicants.models import (
    Applicant,
    ApplicantSensitive,
    ConsentRecord,
    Country,
    DuplicateFlag,
    IntegrationCentre,
    ReferralInstitution,
    StaffAssignment,
)
from applicants.normalise import name_key
from applicants.tokens import issue_token
from assessments.models import (
    Assessment,
    AssessmentScore,
    Attendance,
    Enrolment,
    MonitoringVisit,
    RubricCriterion,
    TrainingCohort,
    TrainingSession,
)
from core.dates import add_months
from demo.seed import tiny_pdf
from grants.models import (
    AuditEvent,
    Call,
    Commitment,
    Delivery,
    DeliveryLine,
    Document,
    EquipmentItem,
    ExchangeRate,
    GrantApplication,
    Notification,
    Programme,
)

PDF_BYTES = tiny_pdf(b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>")
RUBRIC = [
    ("viability", "Viability", "0.30"),
    ("skills", "Skills and experience", "0.20"),
    ("market", "Market", "0.20"),
    ("need", "Need", "0.15"),
    ("commitment", "Commitment", "0.15"),
]


def today():
    return timezone.localdate()


def role_group(role):
    """The role's group; transactional tests flush the data migration's rows, so recreate."""
    group = Group.objects.filter(permissions__codename=f"role_{role}").first()
    if group is None:
        from django.apps import apps

        from applicants.role_setup import sync_role_groups

        sync_role_groups(apps)
        group = Group.objects.get(permissions__codename=f"role_{role}")
    return group


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    class Params:
        role = None

    @factory.post_generation
    def with_role(self, create, extracted, **kwargs):
        role = extracted
        if role:
            self.groups.add(role_group(role))
        self.save()


class CountryFactory(DjangoModelFactory):
    class Meta:
        model = Country
        django_get_or_create = ("code",)

    code = "RS"
    name = "Serbia"


class CentreFactory(DjangoModelFactory):
    class Meta:
        model = IntegrationCentre

    country = factory.SubFactory(CountryFactory)
    name = factory.Sequence(lambda n: f"Integration Centre {n}")
    municipality = "Niš"


def staff(role, *centres, username=None):
    """A staff user with `role` working at `centres` (guardian permissions included)."""
    kwargs = {"username": username} if username else {}
    user = UserFactory(with_role=role, **kwargs)
    for centre in centres:
        StaffAssignment.objects.get_or_create(user=user, centre=centre)
        assign_perm("applicants.access_centre", user, centre)
    return user


class ProgrammeFactory(DjangoModelFactory):
    class Meta:
        model = Programme
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Programme {n}")
    donor = "Donor Foundation"
    country = factory.SubFactory(CountryFactory)
    currency = "EUR"
    budget = Decimal("100000.00")
    ceiling = Decimal("3000.00")
    target_groups = factory.LazyFunction(lambda: ["returnee", "former_inmate", "socially_disadvantaged"])
    # The programme's one call (its budget the programme's): ProgrammeFactory(call_opens=...,
    # call_closes=..., call_revision_deadline=...); call_opens=None makes none.
    call_opens = factory.LazyFunction(lambda: today() - datetime.timedelta(days=30))
    call_closes = factory.LazyFunction(lambda: today() + datetime.timedelta(days=60))
    # Off as for the programmes that existed before purchase orders: the tests of
    # deliveries record them without an order (tests/test_procurement.py turns it on).
    requires_purchase_orders = False
    call_revision_deadline = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        opens = kwargs.pop("call_opens")
        closes = kwargs.pop("call_closes")
        revision_deadline = kwargs.pop("call_revision_deadline")
        programme = super()._create(model_class, *args, **kwargs)
        if opens is not None:
            Call.objects.create(
                programme=programme,
                name=f"{programme.name} call",
                opens=opens,
                closes=closes,
                revision_deadline=revision_deadline,
                budget=programme.budget,
            )
        return programme

    @factory.post_generation
    def rubric(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        for position, (code, label, weight) in enumerate(RUBRIC):
            RubricCriterion.objects.create(
                programme=self, criterion=code, label=label, weight=Decimal(weight), position=position
            )


class ApplicantFactory(DjangoModelFactory):
    class Meta:
        model = Applicant
        skip_postgeneration_save = True

    first_name = "Marko"
    last_name = factory.Sequence(lambda n: f"Petrović{n}")
    date_of_birth = datetime.date(1990, 3, 2)
    phone = factory.Sequence(lambda n: f"+3816400{n:05d}")
    centre = factory.SubFactory(CentreFactory)
    is_returnee = True
    language = "sr-latn"
    email = factory.Sequence(lambda n: f"applicant{n}@example.test")
    name_key = factory.LazyAttribute(lambda a: name_key(a.first_name, a.last_name))

    @factory.post_generation
    def consent(self, create, extracted, **kwargs):
        if create and extracted is not False:
            ConsentRecord.objects.create(
                applicant=self, wording="I agree.", version=CONSENT_VERSION, language="en"
            )

    @factory.post_generation
    def with_user(self, create, extracted, **kwargs):
        """ApplicantFactory(with_user=True) gives the person an applicant account."""
        if create and extracted:
            user = UserFactory(with_role=roles.APPLICANT)
            self.user = user
            self.save(update_fields=["user"])
            assign_perm("applicants.view_applicant", user, self)


class ApplicantSensitiveFactory(DjangoModelFactory):
    class Meta:
        model = ApplicantSensitive

    applicant = factory.SubFactory(ApplicantFactory)
    referral_other = "Correctional Institution Sremska Mitrovica"
    release_month = datetime.date(2025, 5, 1)
    returned_from = "Germany"
    return_date = datetime.date(2024, 2, 1)
    ethnicity = "Roma"


class DuplicateFlagFactory(DjangoModelFactory):
    class Meta:
        model = DuplicateFlag

    applicant = factory.SubFactory(ApplicantFactory)
    other = factory.SubFactory(ApplicantFactory)
    reasons = factory.LazyFunction(lambda: ["same_phone"])


class ApplicationFactory(DjangoModelFactory):
    """ApplicationFactory(), or with a state trait: submitted, training, ready (training
    done, assessed, approvable), approved, delivered, follow_up, completed."""

    class Meta:
        model = GrantApplication
        skip_postgeneration_save = True

    applicant = factory.SubFactory(ApplicantFactory)
    programme = factory.SubFactory(
        ProgrammeFactory, country=factory.SelfAttribute("..applicant.centre.country")
    )
    centre = factory.LazyAttribute(lambda a: a.applicant.centre)
    call = factory.LazyAttribute(lambda a: a.programme.calls.order_by("opens", "id").first())
    business_name = factory.Sequence(lambda n: f"Tailoring workshop {n}")
    sector = "crafts"
    activity = "Sewing and repairing clothes."
    market = "Neighbours and the weekly market."
    experience = "Five years in a tailor's shop."
    expected_monthly_revenue = Decimal("800.00")
    expected_monthly_costs = Decimal("300.00")
    jobs_planned = 1
    state = "draft"

    class Params:
        submitted = factory.Trait(state="submitted", submitted_at=factory.LazyFunction(timezone.now))
        training = factory.Trait(state="business_training", submitted_at=factory.LazyFunction(timezone.now))
        ready = factory.Trait(
            state="business_training",
            submitted_at=factory.LazyFunction(timezone.now),
            state_facts__assessed=True,
        )
        approved = factory.Trait(state="approved", submitted_at=factory.LazyFunction(timezone.now))
        delivered = factory.Trait(
            state="equipment_delivered", submitted_at=factory.LazyFunction(timezone.now)
        )
        follow_up = factory.Trait(state="follow_up", submitted_at=factory.LazyFunction(timezone.now))
        completed = factory.Trait(state="completed", submitted_at=factory.LazyFunction(timezone.now))

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        if not create:
            return
        rows = (
            extracted
            if extracted is not None
            else [("Industrial sewing machine", 1, "620.00"), ("Overlock machine", 1, "480.00")]
        )
        for position, (description, quantity, unit_cost) in enumerate(rows):
            EquipmentItem.objects.create(
                application=self,
                position=position,
                description=description,
                quantity=quantity,
                unit_cost=Decimal(unit_cost),
            )
        GrantApplication.objects.filter(pk=self.pk).update(requested_total=self.compute_requested_total())
        self.requested_total = self.compute_requested_total()

    @factory.post_generation
    def owner_permissions(self, create, extracted, **kwargs):
        if create and self.applicant.user_id:
            assign_perm("grants.view_grantapplication", self.applicant.user, self)
            assign_perm("grants.change_grantapplication", self.applicant.user, self)

    @factory.post_generation
    def state_facts(self, create, extracted, **kwargs):
        if not create or self.state in ("draft", "submitted"):
            return
        assessor = kwargs.get("assessor")
        make_training_done(self, complete=True)
        if self.state == "business_training" and not kwargs.get("assessed"):
            return
        make_assessment(self, assessor=assessor)
        if self.state == "business_training":
            return
        approver = kwargs.get("approver") or staff(roles.PROGRAMME_MANAGER, self.centre)
        amount = self.compute_requested_total()
        GrantApplication.objects.filter(pk=self.pk).update(
            approved_amount=amount, approved_by=approver, approved_at=timezone.now()
        )
        self.approved_amount, self.approved_by = amount, approver
        Commitment.objects.create(
            application=self, programme=self.programme, amount=amount, created_by=approver
        )
        if self.state == "approved":
            return
        delivered_on = kwargs.get("delivered_on") or today() - datetime.timedelta(days=10)
        make_full_delivery(self, delivered_on=delivered_on)
        if self.state == "equipment_delivered":
            return
        for months in self.programme.visit_months:
            MonitoringVisit.objects.create(
                application=self, months=months, due_on=add_months(delivered_on, months)
            )
        if self.state == "completed":
            self.visits.update(visited_on=today(), operating=True, equipment_in_use=True, jobs_owner=1)


def make_training_done(application, *, complete=True, sessions=5):
    cohort = TrainingCohortFactory(
        programme=application.programme, centre=application.centre, sessions=sessions
    )
    enrolment = Enrolment.objects.create(cohort=cohort, application=application)
    for session in cohort.sessions.all():
        Attendance.objects.create(cohort=cohort, session=session, enrolment=enrolment, present=complete)
    return cohort


def make_assessment(application, *, assessor=None, scores=None, recommendation="approve"):
    assessor = assessor or staff(roles.FIELD_OFFICER, application.centre)
    Assessment.objects.filter(application=application, is_current=True).update(is_current=False)
    assessment = Assessment.objects.create(
        application=application, assessor=assessor, recommendation=recommendation, reasons="Visited."
    )
    scores = scores or {code: 4 for code, _l, _w in RUBRIC}
    for criterion in application.programme.rubric.all():
        if criterion.criterion in scores:
            AssessmentScore.objects.create(
                assessment=assessment, criterion=criterion, score=scores[criterion.criterion]
            )
    assessment.weighted_score = assessment.compute_weighted_score()
    assessment.complete = assessment.weighted_score is not None
    assessment.save()
    return assessment


def make_full_delivery(application, *, delivered_on, protocol=True):
    delivery = Delivery.objects.create(
        application=application,
        delivered_on=delivered_on,
        supplier="Tehno Alat",
        invoice_number=f"INV-{application.pk}",
    )
    for item in application.items.all():
        amount = item.unit_cost * item.quantity
        DeliveryLine.objects.create(
            delivery=delivery,
            item=item,
            quantity=item.quantity,
            actual_unit_cost=item.unit_cost,
            amount=amount,
            units_per_eur=Decimal("1"),
            amount_eur=amount,
        )
    if protocol:
        # Signed on handover, uploaded after the delivery was recorded: it covers it.
        document = DocumentFactory(application=application, kind="handover_protocol")
        Delivery.objects.filter(pk=delivery.pk).update(handover_protocol=document)
        delivery.handover_protocol = document
    GrantApplication.objects.filter(pk=application.pk).update(delivered_at=timezone.now())
    return delivery


class TrainingCohortFactory(DjangoModelFactory):
    class Meta:
        model = TrainingCohort
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    centre = factory.SubFactory(CentreFactory)
    title = "Start and run your business"

    @factory.post_generation
    def sessions(self, create, extracted, **kwargs):
        if not create:
            return
        count = 5 if extracted is None else extracted
        for i in range(count):
            TrainingSession.objects.create(
                cohort=self, date=today() - datetime.timedelta(days=7 * (count - i))
            )


class TrainingSessionFactory(DjangoModelFactory):
    class Meta:
        model = TrainingSession

    cohort = factory.SubFactory(TrainingCohortFactory, sessions=0)
    date = factory.LazyFunction(today)


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrolment

    cohort = factory.SubFactory(TrainingCohortFactory)
    application = factory.SubFactory(ApplicationFactory, submitted=True)


class AttendanceFactory(DjangoModelFactory):
    class Meta:
        model = Attendance

    enrolment = factory.SubFactory(EnrolmentFactory)
    cohort = factory.LazyAttribute(lambda a: a.enrolment.cohort)
    session = factory.LazyAttribute(lambda a: a.enrolment.cohort.sessions.first())
    present = True


class RubricCriterionFactory(DjangoModelFactory):
    class Meta:
        model = RubricCriterion

    programme = factory.SubFactory(ProgrammeFactory, rubric=False)
    criterion = factory.Sequence(lambda n: f"criterion{n}")
    label = "Criterion"
    weight = Decimal("1.00")


class AssessmentFactory(DjangoModelFactory):
    class Meta:
        model = Assessment

    application = factory.SubFactory(ApplicationFactory, submitted=True)
    assessor = factory.SubFactory(UserFactory, with_role=roles.FIELD_OFFICER)
    recommendation = "approve"
    reasons = "Visited the premises."


class AssessmentScoreFactory(DjangoModelFactory):
    class Meta:
        model = AssessmentScore

    assessment = factory.SubFactory(AssessmentFactory)
    criterion = factory.LazyAttribute(lambda s: s.assessment.application.programme.rubric.first())
    score = 4


class EquipmentItemFactory(DjangoModelFactory):
    class Meta:
        model = EquipmentItem

    application = factory.SubFactory(ApplicationFactory, items=[])
    description = "Bakery oven"
    quantity = 1
    unit_cost = Decimal("1450.00")


class CommitmentFactory(DjangoModelFactory):
    class Meta:
        model = Commitment

    application = factory.SubFactory(ApplicationFactory, approved=True)
    programme = factory.LazyAttribute(lambda c: c.application.programme)
    amount = Decimal("1000.00")
    status = "released"


class ExchangeRateFactory(DjangoModelFactory):
    class Meta:
        model = ExchangeRate
        django_get_or_create = ("currency", "date")

    currency = "RSD"
    date = factory.LazyFunction(today)
    units_per_eur = Decimal("117.200000")


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    application = factory.SubFactory(ApplicationFactory, approved=True)
    delivered_on = factory.LazyFunction(today)
    supplier = "Tehno Alat d.o.o."
    invoice_number = factory.Sequence(lambda n: f"INV-{n}")


class DeliveryLineFactory(DjangoModelFactory):
    class Meta:
        model = DeliveryLine

    delivery = factory.SubFactory(DeliveryFactory)
    item = factory.LazyAttribute(lambda line: line.delivery.application.items.first())
    quantity = 1
    actual_unit_cost = Decimal("600.00")
    amount = factory.LazyAttribute(lambda line: line.actual_unit_cost * line.quantity)
    units_per_eur = Decimal("1")
    amount_eur = factory.LazyAttribute(lambda line: line.amount)


class DocumentFactory(DjangoModelFactory):
    class Meta:
        model = Document

    application = factory.SubFactory(ApplicationFactory)
    kind = "business_plan"
    file = factory.LazyAttribute(
        lambda d: ContentFile(PDF_BYTES + d.original_name.encode(), name="upload.pdf")
    )
    original_name = factory.Sequence(lambda n: f"plan-{n}.pdf")
    size = len(PDF_BYTES)
    content_type = "application/pdf"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")


class MonitoringVisitFactory(DjangoModelFactory):
    class Meta:
        model = MonitoringVisit

    application = factory.SubFactory(ApplicationFactory, follow_up=True)
    months = 24
    due_on = factory.LazyFunction(lambda: today() + datetime.timedelta(days=1))


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    key = factory.Sequence(lambda n: f"test:{n}")
    email = "someone@example.test"
    subject = "Subject"
    body = "Body"


def audit_actions(application):
    return list(
        AuditEvent.objects.filter(application=application).order_by("id").values_list("action", flat=True)
    )


def api_key(user, device="tests"):
    """A fresh API token's key for `user`, as POST auth/token/ would hand out."""
    return issue_token(user=user, device=device)[1]


# ---- procurement ----


_accounts = itertools.count(260005601001611379)
_quotes = itertools.count(1)


def iban(country="RS", account=None):
    """A valid IBAN (ISO 13616 check digits) for a new account number."""
    from grants.models import iban_is_valid

    account = account or str(next(_accounts))
    for check in range(2, 99):
        candidate = f"{country}{check:02d}{account}"
        if iban_is_valid(candidate):
            return candidate
    raise AssertionError("no check digits")  # pragma: no cover


class SupplierFactory(DjangoModelFactory):
    class Meta:
        model = "grants.Supplier"

    name = factory.Sequence(lambda n: f"Tehno Alat {n} d.o.o.")
    tax_number = factory.Sequence(lambda n: f"1{n:08d}")
    address = "Bulevar Nemanjića 12, Niš"
    iban = factory.LazyFunction(iban)
    status = "approved"
    vetted_on = factory.LazyFunction(today)


class SupplierQuoteFactory(DjangoModelFactory):
    class Meta:
        model = "grants.SupplierQuote"

    item = factory.SubFactory(EquipmentItemFactory)
    supplier = factory.SubFactory(SupplierFactory)
    unit_price = Decimal("1400.00")
    quoted_on = factory.LazyFunction(today)
    valid_until = factory.LazyFunction(lambda: today() + datetime.timedelta(days=30))
    document = factory.LazyAttribute(
        lambda q: DocumentFactory(application=q.item.application, kind="supplier_quote")
    )


def quote_file(name="quote.pdf"):
    """An uploadable quote: a valid PDF, different on each call (uploads are not duplicates)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    marker = next(_quotes)
    content = tiny_pdf(
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>",
        b"(quote %d)" % marker,
    )
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# ---- deliveries ----


def upload_handover_protocol(application, by, *, note=b""):
    """Upload a signed handover protocol through the service, as finance does after a
    handover: it covers the grant's deliveries recorded before it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grants import documents

    content = PDF_BYTES + b"%" + str(application.pk).encode() + note + b"\n"
    return documents.upload_document(
        application=application,
        by=by,
        kind="handover_protocol",
        uploaded_file=SimpleUploadedFile("protocol-signed.pdf", content, "application/pdf"),
    )


def discontinue(application, by, comment="", outcome="recovered"):
    """Take discontinue with the same outcome for every delivered item."""
    from grants import selectors, services

    return services.discontinue_grant(
        application=application,
        by=by,
        comment=comment,
        outcomes=[{"line": line.pk, "outcome": outcome} for line in selectors.undisposed_lines(application)],
    )


# ---- selection ----


def committee_member(username=None):
    """An external selection committee member's account."""
    return UserFactory(with_role=roles.COMMITTEE_MEMBER, **({"username": username} if username else {}))


def make_committee(call, *, chair, members=()):
    from selection.models import Committee, CommitteeMember

    committee = Committee.objects.create(call=call, chair=chair)
    for user in {chair, *members}:
        CommitteeMember.objects.create(committee=committee, user=user)
    return committee


def committee_scores(user, application, value=4, *, conflict=False, **by_code):
    """`user` declares (no conflict unless asked) and scores every criterion `value`
    (or by criterion code), through the services."""
    from selection import services as selection_services

    selection_services.declare(application=application, by=user, conflict=conflict)
    if conflict:
        return None
    scores = {c.pk: by_code.get(c.criterion, value) for c in application.programme.rubric.all()}
    return selection_services.score(application=application, by=user, scores=scores)


# ---- institutions as grantees ----


class InstitutionContactFactory(ApplicantFactory):
    """The contact person of an institution: in no target group, no sensitive facts."""

    first_name = "Dragan"
    is_returnee = False
    is_institution_contact = True


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = "applicants.Institution"

    name = factory.Sequence(lambda n: f"Prison workshop {n}")
    kind = "prison_workshop"
    centre = factory.SubFactory(CentreFactory)
    municipality = "Niš"
    contact = factory.SubFactory(InstitutionContactFactory, centre=factory.SelfAttribute("..centre"))


class ReferralInstitutionFactory(DjangoModelFactory):
    class Meta:
        model = ReferralInstitution
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Correctional Institution {n}")
    kind = ReferralInstitution.Kind.PRISON
