"""Programmes, applications and their workflow, equipment, commitments, deliveries,
documents and the audit trail.

Transitions set the state and the fields derived from it, nothing else: permission
checks, locking, budget commitment, audit rows and notifications are in grants.services.
"""

import hashlib
import hmac
import json
import secrets
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from applicants.models import Applicant, Country, IntegrationCentre, TargetGroup
from applicants.roles import uses_public_labels

from . import workflow as wf
from .workflow import State

MONEY = {"max_digits": 14, "decimal_places": 2}


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
        (grants.ledger has the definition, shared with the budget report)."""
        from .ledger import programme_committed

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
        due = []
        items = self.items.annotate(delivered=Sum("delivery_lines__quantity")).order_by("position")
        for item in items:
            if (item.delivered or 0) < item.quantity:
                due.append(item)
        return due

    # ---- transitions ------------------------------------------------------------------

    @transition(
        field=state,
        source=State.DRAFT,
        target=State.SUBMITTED,
        permission="grants.submit_application",
        conditions=[
            wf.REQUIRED_FIELDS,
            wf.HAS_ITEMS,
            wf.WITHIN_CEILING,
            wf.CONSENT_GIVEN,
            wf.TARGET_GROUP_ELIGIBLE,
            wf.CALL_OPEN,
        ],
    )
    def submit(self):
        self.requested_total = self.compute_requested_total()
        self.submitted_at = timezone.now()

    @transition(
        field=state,
        source=State.SUBMITTED,
        target=State.DRAFT,
        permission="grants.return_application",
    )
    def return_for_changes(self):
        self.submitted_at = None

    @transition(
        field=state,
        source=State.SUBMITTED,
        target=State.BUSINESS_TRAINING,
        permission="grants.admit_application",
        conditions=[wf.ENROLLED],
    )
    def admit_to_training(self):
        pass

    @transition(
        field=state,
        source=State.BUSINESS_TRAINING,
        target=State.APPROVED,
        permission="grants.approve_application",
        conditions=[
            wf.TRAINING_COMPLETED,
            wf.ASSESSMENT_RECOMMENDS,
            wf.ASSESSMENT_PASSES,
            wf.BUDGET_LEFT,
        ],
    )
    def approve(self, *, by):
        self.approved_amount = self.compute_requested_total()
        self.approved_at = timezone.now()
        self.approved_by = by

    @transition(
        field=state,
        source=[State.SUBMITTED, State.BUSINESS_TRAINING],
        target=State.REJECTED,
        permission="grants.reject_application",
    )
    def reject(self, *, reason):
        self.closed_at = timezone.now()
        self.closing_reason = reason

    @transition(
        field=state,
        source=[State.DRAFT, State.SUBMITTED, State.BUSINESS_TRAINING],
        target=State.WITHDRAWN,
        permission="grants.withdraw_application",
    )
    def withdraw(self):
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=State.APPROVED,
        target=State.CANCELLED,
        permission="grants.cancel_application",
    )
    def cancel(self, *, reason):
        self.closed_at = timezone.now()
        self.closing_reason = reason

    @transition(
        field=state,
        source=State.APPROVED,
        target=State.EQUIPMENT_DELIVERED,
        permission="grants.record_delivery",
        conditions=[wf.ALL_ITEMS_DELIVERED, wf.HANDOVER_PROTOCOL],
    )
    def record_delivery(self):
        self.delivered_at = timezone.now()

    @transition(
        field=state,
        source=State.EQUIPMENT_DELIVERED,
        target=State.FOLLOW_UP,
        permission="grants.start_follow_up",
    )
    def start_follow_up(self):
        pass

    @transition(
        field=state,
        source=State.FOLLOW_UP,
        target=State.COMPLETED,
        permission="grants.complete_application",
        conditions=[wf.LAST_VISIT_DONE],
    )
    def complete(self):
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=State.FOLLOW_UP,
        target=State.DISCONTINUED,
        permission="grants.discontinue_application",
    )
    def discontinue(self, *, reason):
        self.closed_at = timezone.now()
        self.closing_reason = reason


TRANSITION_NAMES = [
    "submit",
    "return_for_changes",
    "admit_to_training",
    "approve",
    "reject",
    "withdraw",
    "cancel",
    "record_delivery",
    "start_follow_up",
    "complete",
    "discontinue",
]


class GrantApplicationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(GrantApplication, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class GrantApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(GrantApplication, on_delete=models.CASCADE)


class EquipmentItem(models.Model):
    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_cost = models.DecimalField(_("unit cost estimate"), **MONEY)
    supplier_quote = models.ForeignKey(
        "grants.Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="item_unit_cost_nonneg"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.description}"

    @property
    def line_total(self):
        return (self.unit_cost * self.quantity).quantize(Decimal("0.01"))


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


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(EquipmentItem, on_delete=models.PROTECT, related_name="delivery_lines")
    quantity = models.PositiveIntegerField()
    actual_unit_cost = models.DecimalField(**MONEY)
    # Programme currency; EUR at the delivery date's rate, kept as recorded.
    amount = models.DecimalField(**MONEY)
    units_per_eur = models.DecimalField(max_digits=14, decimal_places=6)
    amount_eur = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(condition=Q(actual_unit_cost__gte=0), name="line_unit_cost_nonneg"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="line_amount_nonneg"),
            models.CheckConstraint(condition=Q(amount_eur__gte=0), name="line_amount_eur_nonneg"),
        ]

    def __str__(self):
        return f"{self.quantity} of item {self.item_id}"


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


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def delete(self):
        raise PermissionError("Audit events are append-only.")


ERASED_TEXT = "(erased)"


class AuditEvent(models.Model):
    """Append-only, hash-chained record of who did what, when, from which state to which.

    Each row's hash covers its own content and the previous row's hash, so an edited,
    inserted or deleted row breaks the chain (`manage.py verify_audit`). Free text
    (comments, reasons) is not in the row: it is an AuditText beside it, and the hash
    covers only the text's keyed digest, so erasure can delete the text and the chain
    still proves itself."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    on_behalf_of = models.ForeignKey(
        Applicant, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        GrantApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    applicant = models.ForeignKey(
        Applicant, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(max_length=60, db_index=True)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    text_digest = models.CharField(
        max_length=64, blank=True, help_text="HMAC-SHA256 of the free text under its own salt; empty: none."
    )
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["application", "at"])]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    @property
    def actor_name(self):
        """Who acted: the username the chain keeps for staff, else the account's current
        username (an applicant's, "erased-<id>" after erasure; load it with
        select_related("actor"))."""
        if self.actor_username or self.actor_id is None:
            return self.actor_username
        return self.actor.username

    @property
    def comment(self):
        """The event's free text, read from beside the chain (load it with
        select_related("free_text")); "(erased)" once erasure removed it."""
        if not self.text_digest:
            return ""
        try:
            return self.free_text.text
        except AuditText.DoesNotExist:
            return ERASED_TEXT

    def canonical(self):
        return json.dumps(
            {
                "at": self.at.isoformat(),
                "actor": self.actor_id,
                "actor_username": self.actor_username,
                "on_behalf_of": self.on_behalf_of_id,
                "application": self.application_id,
                "applicant": self.applicant_id,
                "action": self.action,
                "from_state": self.from_state,
                "to_state": self.to_state,
                "text_digest": self.text_digest,
                "data": self.data,
                "prev_hash": self.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def compute_hash(self):
        return hashlib.sha256(self.canonical().encode()).hexdigest()


class AuditText(models.Model):
    """The free text of one audit event, beside the chain. Its random salt keys the
    digest the chain holds: a short text (a phone number, a name) cannot be confirmed by
    hashing guesses, and once erasure deletes this row nothing of the text is left."""

    event = models.OneToOneField(
        AuditEvent, primary_key=True, on_delete=models.CASCADE, related_name="free_text"
    )
    text = models.TextField()
    salt = models.CharField(max_length=64)

    def __str__(self):
        return f"text of audit event {self.event_id}"

    @staticmethod
    def digest(text, salt):
        return hmac.new(bytes.fromhex(salt), text.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def new_salt():
        return secrets.token_hex(32)


class AuditChainHead(models.Model):
    """One row holding the newest event's hash; locking it orders concurrent appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return self.last_hash


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
