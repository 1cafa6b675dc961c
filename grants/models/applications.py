"""Applications and their workflow: transitions set the state and the fields derived
from it, nothing else (permission checks, locking, budget commitment, audit rows and
notifications are in grants.services)."""

from decimal import Decimal

from django.conf import settings
from django.db import connections, models
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from applicants.models import Applicant, Institution, IntegrationCentre

from .. import transitions as steps
from ..workflow import State
from .calls import Call
from .common import MONEY, Sector
from .contracts import contribution_outstanding
from .programmes import Programme

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
    members = models.ManyToManyField(
        Applicant,
        blank=True,
        related_name="cooperative_applications",
        through="grants.CooperativeMember",
        through_fields=("application", "applicant"),
    )
    # The cooperative's registration with the business registry.
    cooperative_registration_number = models.CharField(
        _("cooperative registration number"),
        max_length=50,
        blank=True,
        default="",
        db_default="",  # (rows written in bulk without it, bench/generate, get the blank)
    )
    cooperative_registered_on = models.DateField(_("cooperative registered on"), null=True, blank=True)
    # Set: an institutional grant, the institution the grantee and `applicant` its contact
    # person (docs/design.md, "Institutional grantees"); counted apart from enterprises.
    institution = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("institution"),
    )
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    # The programme's call it was made in (the open call covering its centre): its dates
    # decide when it may be sent, its budget share how many of its kind are approved.
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="applications")
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
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # When it was last returned for changes: it may be sent again until its call's
    # revision deadline.
    returned_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_reason = models.TextField(blank=True)
    # The business's registration (grants.services.contracts.record_registration).
    business_registration_number = models.CharField(
        _("business registration number"), max_length=50, blank=True, default="", db_default=""
    )
    business_registered_on = models.DateField(_("business registered on"), null=True, blank=True)

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
            models.CheckConstraint(
                condition=Q(institution__isnull=True) | Q(is_cooperative=False),
                name="application_institution_not_cooperative",
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
            # The approvals queue (assessments.selectors.approvals_ready) in its order: the
            # page's rows are read from the oldest submission on, and the training rule is
            # checked only until the page is full (README "Performance").
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(state="business_training"),
                name="application_training_queue",
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
    def is_institutional(self):
        return self.institution_id is not None

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

    def compute_granted_total(self):
        """What the approval grants: each item's approved quantity × approved unit cost,
        or its request where the approval has not set them (before approval: the
        requested total; an item approved at none counts 0)."""
        total = self.items.aggregate(
            total=Sum(
                Coalesce("approved_quantity", "quantity") * Coalesce("approved_unit_cost", "unit_cost"),
                output_field=models.DecimalField(**MONEY),
            )
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

    def contribution_outstanding(self):
        """What is left to pay of the own contribution (grants.models.contracts)."""
        return contribution_outstanding(self)

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
        self.returned_at = timezone.now()

    @transition(field=state, **steps.ADMIT_TO_TRAINING.fsm())
    def admit_to_training(self):
        pass

    @transition(field=state, **steps.APPROVE.fsm())
    def approve(self, *, by):
        # The granted values: a reduced approval has set them on the items before.
        self.approved_amount = self.compute_granted_total()
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


class CooperativeMember(models.Model):
    """A registered person who is a member of a cooperative's application, with their
    role and membership dates. Each member's consent and target group are checked at
    submission (grants.workflow) and each counts as a family reached (docs/reports.md).
    The table is the one the plain many-to-many had (its rows are the members recorded
    before roles: "member")."""

    class Role(models.TextChoices):
        FOUNDER = "founder", _("Founder")
        MEMBER = "member", _("Member")
        MANAGER = "manager", _("Manager")

    application = models.ForeignKey(
        GrantApplication,
        on_delete=models.CASCADE,
        db_column="grantapplication_id",
        related_name="memberships",
    )
    applicant = models.ForeignKey(Applicant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    joined_on = models.DateField(_("member since"), null=True, blank=True)
    left_on = models.DateField(_("member until"), null=True, blank=True)

    class Meta:
        db_table = "grants_grantapplication_members"
        unique_together = [("application", "applicant")]

    def __str__(self):
        return f"{self.applicant_id} in application {self.application_id} ({self.role})"


class GrantApplicationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(GrantApplication, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "permission", "content_object"])]


class GrantApplicationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(GrantApplication, on_delete=models.CASCADE)
