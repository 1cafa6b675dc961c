"""Programmes, applications and their workflow, equipment, commitments, deliveries,
documents and notifications. The audit trail's models belong to this app too (their
tables, migrations and permissions are grants'), but live in audit.models, below every
app, so that every app can write to the trail.

Transitions set the state and the fields derived from it, nothing else: permission
checks, locking, budget commitment, audit rows and notifications are in grants.services.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from applicants.models import Applicant, Country, IntegrationCentre, TargetGroup
from applicants.roles import uses_public_labels

# Registers the audit trail's models under this app (their app_label is "grants").
from audit.models import ERASED_TEXT, AuditChainHead, AuditEvent, AuditText  # noqa: F401
from core.money import cents

from . import transitions as steps
from . import workflow as wf
from .workflow import State

MONEY = {"max_digits": 14, "decimal_places": 2}
# The most of one item a grant buys or a delivery hands over (forms, API and services
# read it from the fields' validators).
MAX_QUANTITY = 100_000


def max_length(model, name):
    """The limit of a text field, for the forms and serializers that take it in."""
    return model._meta.get_field(name).max_length


class Sector(models.TextChoices):
    AGRICULTURE = "agriculture", _("Agriculture")
    LIVESTOCK = "livestock", _("Livestock")
    FOOD = "food", _("Food")
    CRAFTS = "crafts", _("Crafts")
    CONSTRUCTION = "construction", _("Construction")
    SERVICES = "services", _("Services")
    TRADE = "trade", _("Trade")
    TRANSPORT = "transport", _("Transport")
    OTHER = "other", _("Other")


class Currency(models.TextChoices):
    EUR = "EUR", "EUR"
    RSD = "RSD", "RSD"
    ALL = "ALL", "ALL"
    BAM = "BAM", "BAM"
    MKD = "MKD", "MKD"


def default_visit_months():
    return [3, 6, 12]


class Programme(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # What roles without sensitive access (finance, the auditor) and the printed handover
    # protocol read instead of the name, which may say "after release"
    # (docs/permissions.md, "Public labels").
    public_name = models.CharField(
        _("public label"),
        max_length=200,
        blank=True,
        default="",
        db_default="",  # (rows written in bulk without it, bench/generate, get the blank)
        help_text=_(
            "Shown to finance and auditors and printed on handover protocols instead of the name. "
            "Must not reveal prison or return; left blank: “Programme <number>”."
        ),
    )
    donor = models.CharField(_("donor"), max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="programmes")
    currency = models.CharField(_("currency"), max_length=3, choices=Currency)
    budget = models.DecimalField(_("total budget"), **MONEY)
    ceiling = models.DecimalField(_("ceiling per grant"), **MONEY)
    target_groups = models.JSONField(_("eligible target groups"), default=list)
    training_threshold = models.DecimalField(
        _("share of training sessions to attend"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    pass_mark = models.DecimalField(
        _("assessment pass mark (weighted, 1-5)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )
    call_opens = models.DateField(_("call opens"))
    call_closes = models.DateField(_("call closes"))
    visit_months = models.JSONField(
        _("monitoring visits, months after delivery"), default=default_visit_months
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="programme_budget_nonneg"),
            models.CheckConstraint(condition=Q(ceiling__gt=0), name="programme_ceiling_positive"),
            models.CheckConstraint(
                condition=Q(call_closes__gte=F("call_opens")), name="programme_call_dates"
            ),
            models.CheckConstraint(
                condition=Q(training_threshold__gte=0) & Q(training_threshold__lte=1),
                name="programme_threshold_share",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def public_label(self):
        return self.public_name or _("Programme %(number)s") % {"number": self.pk}

    def label_for(self, user):
        """The name, or the public label for a role that must not read it."""
        return self.public_label if uses_public_labels(user) else self.name

    def call_is_open(self, on=None):
        on = on or wf.today()
        return self.call_opens <= on <= self.call_closes

    def committed_amount(self):
        """Approved grants at their commitment, settled ones at their delivered cost
        (grants.ledger explains the definition; the budget report shares it)."""
        if not getattr(self, "_budget_locked", False):
            return programme_committed(self.pk)
        # The row is locked for a budget step (services.take_transition): nothing else
        # changes the amount until the step ends, so its rule check and the transition's
        # condition read it once (two scans of the programme's ledger).
        if not hasattr(self, "_committed_under_lock"):
            self._committed_under_lock = programme_committed(self.pk)
        return self._committed_under_lock

    def remaining_budget(self):
        return self.budget - self.committed_amount()

    def target_group_labels(self):
        labels = dict(TargetGroup.choices)
        return [labels.get(g, g) for g in self.target_groups]


STATE_LABELS = dict(State.CHOICES)


class ApplicationQuerySet(models.QuerySet):
    # Offset from which a page is fetched by its ids first (see __getitem__).
    DEFERRED_JOIN_FROM = 1000

    def __getitem__(self, k):
        """A deep page (`?page=1000`: 50 rows after 49,950 others) would otherwise read
        and join every skipped row. Its ids come first, from the index alone, in a
        subquery; only those rows are then joined (one query all the same)."""
        if (
            isinstance(k, slice)
            and (k.start or 0) >= self.DEFERRED_JOIN_FROM
            and k.stop is not None
            and self._result_cache is None
            and self._fields is None
            and not (self.query.is_sliced or self.query.distinct or self.query.combinator)
            and connections[self.db].features.allow_sliced_subqueries_with_in
        ):
            return self.filter(pk__in=self.values("pk")[k])
        return super().__getitem__(k)


class GrantApplication(ConcurrentTransitionMixin, models.Model):
    applicant = models.ForeignKey(Applicant, on_delete=models.PROTECT, related_name="applications")
    is_cooperative = models.BooleanField(_("cooperative"), default=False)
    members = models.ManyToManyField(Applicant, blank=True, related_name="cooperative_applications")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    # Copied from the applicant at creation: the unit that owns the work, and the key of
    # every permission-filtered list.
    centre = models.ForeignKey(IntegrationCentre, on_delete=models.PROTECT, related_name="applications")
    business_name = models.CharField(_("business name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector)
    activity = models.TextField(_("activity"), blank=True, max_length=4000)
    market = models.TextField(_("market"), blank=True, max_length=4000)
    experience = models.TextField(_("experience"), blank=True, max_length=4000)
    expected_monthly_revenue = models.DecimalField(
        _("expected monthly revenue"), null=True, blank=True, **MONEY
    )
    expected_monthly_costs = models.DecimalField(_("expected monthly costs"), null=True, blank=True, **MONEY)
    jobs_planned = models.PositiveSmallIntegerField(_("jobs planned"), default=1)
    requested_total = models.DecimalField(_("requested total"), default=Decimal("0.00"), **MONEY)
    approved_amount = models.DecimalField(_("approved amount"), null=True, blank=True, **MONEY)
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_applications",
    )
    state = FSMField(default=State.DRAFT, choices=State.CHOICES, protected=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_reason = models.TextField(blank=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(requested_total__gte=0), name="application_requested_nonneg"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gte=0),
                name="application_approved_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(expected_monthly_revenue__isnull=True) | Q(expected_monthly_revenue__gte=0),
                name="application_revenue_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(expected_monthly_costs__isnull=True) | Q(expected_monthly_costs__gte=0),
                name="application_costs_nonneg",
            ),
        ]
        indexes = [
            models.Index(fields=["centre", "state", "-created_at"]),
            models.Index(fields=["centre", "-created_at", "id"]),
            models.Index(fields=["programme", "state"]),
            # Newest first across centres (the inbox's order), the centre last so that a
            # page's ids are found in the index alone (README "Performance").
            models.Index(fields=["-created_at", "-id", "centre"], name="application_newest_first"),
            # The reports' applications (a user's centres, the supported states) with the
            # columns their figures join on, read from the index alone (key columns, not
            # INCLUDE, which SQLite lacks).
            models.Index(
                fields=["centre", "state", "id", "applicant", "programme", "is_cooperative"],
                name="application_report_scope",
            ),
        ]
        permissions = [
            ("submit_application", "Submit an application"),
            ("return_application", "Return an application for changes"),
            ("admit_application", "Admit an application to business training"),
            ("approve_application", "Approve an application"),
            ("reject_application", "Reject an application"),
            ("withdraw_application", "Withdraw an application"),
            ("cancel_application", "Cancel an approved grant"),
            ("record_delivery", "Record equipment delivery"),
            ("start_follow_up", "Start follow-up"),
            ("complete_application", "Complete a grant"),
            ("discontinue_application", "Discontinue a grant"),
            ("view_sensitive", "See special-category and criminal-record facts"),
            ("view_reports", "See programme reports"),
            ("view_finance", "See budgets, commitments and deliveries"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.business_name}"

    @property
    def state_label(self):
        """The state's name in the active language: get_state_display() without
        rebuilding (and hashing) the choices each time, for lists of many rows."""
        return STATE_LABELS.get(self.state, self.state)

    # ---- derived values -------------------------------------------------------------

    def compute_requested_total(self):
        total = self.items.aggregate(
            total=Sum(F("quantity") * F("unit_cost"), output_field=models.DecimalField(**MONEY))
        )["total"]
        return (total or Decimal("0")).quantize(Decimal("0.01"))

    def current_assessment(self):
        return self.remembered("current_assessment", lambda: self.assessments.filter(is_current=True).first())

    def remember_reads(self):
        """For an instance that only shows the application (a page): from now on, what
        the page and the workflow rules both read (the current assessment, the active
        enrolment: `remembered`) is read once. Never for an instance being changed."""
        self._remembered = {}

    def remembered(self, name, read):
        """`read()`, once per name on an instance that `remember_reads`, else each time."""
        memo = getattr(self, "_remembered", None)
        if memo is None:
            return read()
        if name not in memo:
            memo[name] = read()
        return memo[name]

    def undelivered_items(self):
        """Items (with quantity still due) not yet fully handed over."""
        return [item for item in self.items.with_delivered().order_by("position", "id") if item.quantity_due]

    # ---- transitions ------------------------------------------------------------------

    @transition(field=state, **steps.SUBMIT.fsm())
    def submit(self):
        self.requested_total = self.compute_requested_total()
        self.submitted_at = timezone.now()

    @transition(field=state, **steps.RETURN_FOR_CHANGES.fsm())
    def return_for_changes(self):
        self.submitted_at = None

    @transition(field=state, **steps.ADMIT_TO_TRAINING.fsm())
    def admit_to_training(self):
        pass

    @transition(field=state, **steps.APPROVE.fsm())
    def approve(self, *, by):
        self.approved_amount = self.compute_requested_total()
        self.approved_at = timezone.now()
        self.approved_by = by

    @transition(field=state, **steps.REJECT.fsm())
    def reject(self, *, reason):
        self.closed_at = timezone.now()
        self.closing_reason = reason

    @transition(field=state, **steps.WITHDRAW.fsm())
    def withdraw(self):
        self.closed_at = timezone.now()

    @transition(field=state, **steps.CANCEL.fsm())
    def cancel(self, *, reason):
        self.closed_at = timezone.now()
        self.closing_reason = reason

    @transition(field=state, **steps.RECORD_DELIVERY.fsm())
    def record_delivery(self):
        self.delivered_at = timezone.now()

    @transition(field=state, **steps.START_FOLLOW_UP.fsm())
    def start_follow_up(self):
        pass

    @transition(field=state, **steps.COMPLETE.fsm())
    def complete(self):
        self.closed_at = timezone.now()

    @transition(field=state, **steps.DISCONTINUE.fsm())
    def discontinue(self, *, reason):
        self.closed_at = timezone.now()
        self.closing_reason = reason


TRANSITION_NAMES = steps.NAMES


class GrantApplicationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(GrantApplication, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class GrantApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(GrantApplication, on_delete=models.CASCADE)


class EquipmentItemQuerySet(models.QuerySet):
    def with_delivered(self):
        """Each item with `delivered`: the quantity handed over so far, over all the
        grant's deliveries (0 before the first). The one definition the delivery form,
        the service that records a delivery, the application page and the delivery
        guard read."""
        return self.annotate(
            delivered=Coalesce(Sum("delivery_lines__quantity"), Value(0), output_field=models.IntegerField())
        )


class EquipmentItem(models.Model):
    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(
        _("quantity"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUANTITY)]
    )
    unit_cost = models.DecimalField(_("unit cost estimate"), **MONEY)
    supplier_quote = models.ForeignKey(
        "grants.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = EquipmentItemQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="item_unit_cost_nonneg"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.description}"

    @property
    def quantity_due(self):
        """What is still to hand over (from `with_delivered`)."""
        return self.quantity - self.delivered

    @property
    def line_total(self):
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))


class CommitmentQuerySet(models.QuerySet):
    def still_open(self):
        """Active commitments of grants that still count at their approved amount: those
        still approved. (A commitment is made by `approve` and released by `cancel`, so an
        active one belongs to an approved grant or to one that counts at cost; naming the
        one state lets PostgreSQL start from the approved grants rather than read every
        grant to exclude the others: docs/reports.md has the times.)"""
        return self.filter(status=Commitment.Status.ACTIVE, application__state=State.APPROVED)


class Commitment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        RELEASED = "released", _("Released")

    application = models.ForeignKey(GrantApplication, on_delete=models.PROTECT, related_name="commitments")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="commitments")
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    release_reason = models.TextField(blank=True)

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="commitment_amount_nonneg"),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="active"),
                name="one_live_commitment_per_application",
            ),
        ]
        indexes = [models.Index(fields=["programme", "status"])]

    def __str__(self):
        return f"{self.amount} for application {self.application_id} ({self.status})"


class ExchangeRate(models.Model):
    """How many units of `currency` one euro buys on `date` (as central banks publish)."""

    currency = models.CharField(max_length=3, choices=Currency)
    date = models.DateField()
    units_per_eur = models.DecimalField(max_digits=14, decimal_places=6)

    class Meta:
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="rate_unique_per_day"),
            models.CheckConstraint(condition=Q(units_per_eur__gt=0), name="rate_positive"),
        ]

    def __str__(self):
        return f"1 EUR = {self.units_per_eur} {self.currency} on {self.date}"


class Delivery(models.Model):
    application = models.ForeignKey(GrantApplication, on_delete=models.PROTECT, related_name="deliveries")
    delivered_on = models.DateField(_("delivered on"))
    supplier = models.CharField(_("supplier"), max_length=200)
    invoice_number = models.CharField(_("invoice number"), max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivered_on", "id"]
        verbose_name_plural = _("deliveries")

    def __str__(self):
        return f"delivery {self.pk} for application {self.application_id}"


class DeliveryLineQuerySet(models.QuerySet):
    def at_cost(self):
        """Lines of grants that count at their delivered cost (State.AT_COST)."""
        return self.filter(delivery__application__state__in=State.AT_COST)


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(EquipmentItem, on_delete=models.PROTECT, related_name="delivery_lines")
    quantity = models.PositiveIntegerField()
    actual_unit_cost = models.DecimalField(**MONEY)
    # Programme currency; EUR at the delivery date's rate, kept as recorded.
    amount = models.DecimalField(**MONEY)
    units_per_eur = models.DecimalField(max_digits=14, decimal_places=6)
    amount_eur = models.DecimalField(**MONEY)

    objects = DeliveryLineQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(actual_unit_cost__gte=0), name="line_unit_cost_nonneg"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="line_amount_nonneg"),
            models.CheckConstraint(condition=Q(amount_eur__gte=0), name="line_amount_eur_nonneg"),
        ]

    def __str__(self):
        return f"{self.quantity} of item {self.item_id}"


def programme_committed(programme_id):
    """Committed amount of one programme, in its currency (two aggregate queries): its
    open commitments and the delivered cost of its grants that count at cost."""
    open_amount = (
        Commitment.objects.still_open().filter(programme_id=programme_id).aggregate(total=Sum("amount"))
    )
    spent = (
        DeliveryLine.objects.at_cost()
        .filter(delivery__application__programme_id=programme_id)
        .aggregate(total=Sum("amount"))
    )
    return cents(open_amount["total"]) + cents(spent["total"])


class DocumentKind(models.TextChoices):
    ID_DOCUMENT = "id_document", _("ID document")
    BUSINESS_PLAN = "business_plan", _("Business plan")
    RELEASE_CERTIFICATE = "release_certificate", _("Release certificate")
    RETURN_CERTIFICATE = "return_certificate", _("Return certificate")
    SUPPLIER_QUOTE = "supplier_quote", _("Supplier quote")
    HANDOVER_PROTOCOL = "handover_protocol", _("Handover protocol")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


def document_key(instance, filename):
    # Never a user-supplied path: a random key under the month.
    now = timezone.now()
    return f"documents/{now:%Y/%m}/{uuid.uuid4().hex}"


class Document(models.Model):
    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=30, choices=DocumentKind)
    file = models.FileField(upload_to=document_key, max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        Applicant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "sha256"], name="document_unique_per_application"),
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.original_name}"


class Notification(models.Model):
    """The outbox: what was (or is to be) sent to whom, so that delivery is retried and
    a reminder is sent once however often the job runs."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    key = models.CharField(max_length=200, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(blank=True)
    language = models.CharField(max_length=10, default="en")
    subject = models.CharField(max_length=255)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.key} → {self.email} ({self.status})"
