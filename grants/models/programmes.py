"""Programmes: the donor's money and its rules (its calls: grants.models.calls)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from applicants.facts import validate_age_bands
from applicants.models import Country, TargetGroup
from applicants.roles import uses_public_labels

from .. import workflow as wf
from .common import MONEY, Currency
from .contracts import PERCENT, RuleTiming
from .finance import programme_committed


class CommitteeResult(models.TextChoices):
    MEAN = "mean", _("Mean of the members' scores")
    MEDIAN = "median", _("Median of the members' scores")


class ListApprover(models.TextChoices):
    MANAGER = "programme_manager", _("A programme manager")
    CHAIR = "committee_chair", _("The committee's chair")
    OFFICER = "field_officer", _("A field officer who did not assess the application")


def default_visit_months():
    return [3, 6, 12]


class RegionalProgramme(models.Model):
    """One donor's programme run in several countries (the German-funded regional
    programme covered five): each country's part is a `Programme` of that country, with
    its own currency, budget, ceiling and rules; the regional programme names them
    together for the donor's figures (reports filter `regional_programme`), where
    amounts stay in each part's currency and are added only in EUR."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    public_name = models.CharField(
        _("public label"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Shown to finance and auditors instead of the name. Must not reveal prison or return."),
    )
    donor = models.CharField(_("donor"), max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name = _("regional programme")
        verbose_name_plural = _("regional programmes")

    def __str__(self):
        return self.name

    def label_for(self, user):
        if uses_public_labels(user):
            return self.public_name or _("Regional programme %(number)s") % {"number": self.pk}
        return self.name


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
    # The regional programme this is one country's part of (same donor, one part per
    # country), or none.
    regional_programme = models.ForeignKey(
        RegionalProgramme,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="parts",
        verbose_name=_("part of the regional programme"),
    )
    budget = models.DecimalField(_("total budget"), **MONEY)
    ceiling = models.DecimalField(_("ceiling per grant"), **MONEY)
    target_groups = models.JSONField(_("eligible target groups"), default=list)
    # The first age of each band the programme reports by (applicants.facts); empty:
    # 15–24, 25–34, 35–49, 50+.
    age_bands = models.JSONField(
        _("age bands"),
        default=list,
        blank=True,
        db_default=[],
        help_text=_("The first age of each band, rising, such as [15, 25, 35, 50]; empty for these."),
        validators=[validate_age_bands],
    )
    training_threshold = models.DecimalField(
        _("share of training sessions to attend"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    # Training as its own service (assessments.TrainingCohort): whether its cohorts may
    # count participants without personal data, as a headcount per session.
    anonymous_training = models.BooleanField(
        _("training may count participants without names"), default=False, db_default=False
    )
    pass_mark = models.DecimalField(
        _("assessment pass mark (weighted, 1-5)"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("3.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("5"))],
    )
    # How far a delivered price may exceed what was approved before a programme manager
    # must re-approve the cost (each line's unit cost, and the grant's delivered total):
    # grants.services.finance.record_delivery_lines, docs/design.md "Cost control".
    cost_tolerance = models.DecimalField(
        _("price tolerance before re-approval"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.10"),
        db_default=Decimal("0.10"),  # (rows written in bulk without it, bench/generate)
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("A share: 0.10 lets a delivered price exceed the approved one by 10 %."),
    )
    # How the selection committee's scores make an application's result, whether its
    # external members read sensitive facts, and who approves the ranked list (selection).
    committee_result = models.CharField(
        _("committee result"),
        max_length=10,
        choices=CommitteeResult,
        default=CommitteeResult.MEAN,
        db_default=CommitteeResult.MEAN,  # (rows written in bulk without it, bench/generate)
    )
    committee_sees_sensitive = models.BooleanField(
        _("committee members without sensitive access see sensitive facts"), default=False, db_default=False
    )
    list_approver = models.CharField(
        _("approver of the ranked list"),
        max_length=20,
        choices=ListApprover,
        default=ListApprover.MANAGER,
        db_default=ListApprover.MANAGER,
    )
    visit_months = models.JSONField(
        _("monitoring visits, months after delivery"), default=default_visit_months
    )
    # The grant contract's conditions (grants.contracts): each switched off, or required
    # before procurement (quotes, purchase orders) or before delivery.
    own_contribution_percent = models.DecimalField(
        _("own contribution, percent of the approved amount"),
        default=Decimal("0"),
        db_default=Decimal("0"),
        help_text=_("0: the beneficiary pays nothing back."),
        **PERCENT,
    )
    contribution_due_days = models.PositiveSmallIntegerField(
        _("own contribution due, days after the contract"), default=30, db_default=30
    )
    contract_rule = models.CharField(
        _("signed contract required"),
        max_length=20,
        choices=RuleTiming,
        blank=True,
        default="",
        db_default="",
    )
    contribution_rule = models.CharField(
        _("own contribution paid in full required"),
        max_length=20,
        choices=RuleTiming,
        blank=True,
        default="",
        db_default="",
    )
    registration_rule = models.CharField(
        _("business registration required"),
        max_length=20,
        choices=RuleTiming,
        blank=True,
        default="",
        db_default="",
    )
    # Procurement rules (docs/procurement.md): an item worth more than the threshold (in
    # the programme's currency, at its approved value) is bought after comparing this
    # many quotes of vetted suppliers; below it one quote suffices.
    # (db_default: rows written in bulk without them, bench/generate, get the same)
    quotes_required = models.PositiveSmallIntegerField(
        _("quotes to compare above the threshold"),
        default=3,
        db_default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    quote_threshold = models.DecimalField(
        _("item value above which quotes are compared"),
        default=Decimal("1000.00"),
        db_default=Decimal("1000.00"),
        **MONEY,
    )
    # On for programmes created from now on; off for those that existed before purchase
    # orders (migration 0010) and for rows written in bulk (the benchmark's history), so
    # that deliveries already under way are not stopped.
    requires_purchase_orders = models.BooleanField(
        _("deliveries need an approved purchase order"), default=True, db_default=False
    )
    # Whether an institution (a prison workshop, a vocational school: applicants.Institution)
    # may be a grantee besides the people of its target groups.
    allows_institutions = models.BooleanField(
        _("institutions may be grantees"), default=False, db_default=False
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="programme_budget_nonneg"),
            models.CheckConstraint(condition=Q(ceiling__gt=0), name="programme_ceiling_positive"),
            models.CheckConstraint(
                condition=Q(training_threshold__gte=0) & Q(training_threshold__lte=1),
                name="programme_threshold_share",
            ),
            models.CheckConstraint(
                condition=Q(own_contribution_percent__gte=0) & Q(own_contribution_percent__lte=100),
                name="programme_contribution_share",
            ),
            models.CheckConstraint(
                condition=Q(quote_threshold__gte=0), name="programme_quote_threshold_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(cost_tolerance__gte=0) & Q(cost_tolerance__lte=1),
                name="programme_cost_tolerance_share",
            ),
            models.UniqueConstraint(
                fields=["regional_programme", "country"],
                condition=Q(regional_programme__isnull=False),
                name="programme_one_part_per_country",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        regional = self.regional_programme
        if regional is None:
            return
        if self.donor and self.donor != regional.donor:
            raise ValidationError(
                {
                    "regional_programme": _("A part of a regional programme has its donor: %(donor)s.")
                    % {"donor": regional.donor}
                }
            )
        others = Programme.objects.filter(regional_programme=regional, country_id=self.country_id)
        if self.pk:
            others = others.exclude(pk=self.pk)
        if self.country_id and others.exists():
            raise ValidationError(
                {"regional_programme": _("The regional programme already has a part in this country.")}
            )

    @property
    def public_label(self):
        return self.public_name or _("Programme %(number)s") % {"number": self.pk}

    def label_for(self, user):
        """The name, or the public label for a role that must not read it."""
        return self.public_label if uses_public_labels(user) else self.name

    # The programme's call dates are its calls' (grants.models.calls): the first opening
    # and the last closing, read from `calls.all()` so that a list prefetches them.
    @property
    def call_opens(self):
        return min((call.opens for call in self.calls.all()), default=None)

    @property
    def call_closes(self):
        return max((call.closes for call in self.calls.all()), default=None)

    def call_is_open(self, on=None):
        """Whether any of its calls is open."""
        on = on or wf.today()
        return any(call.is_open(on) for call in self.calls.all())

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
