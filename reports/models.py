"""What the reports keep: a programme's indicators with their targets, and the donor
period reports generated in the background (docs/reports.md, "Indicators" and "The
donor period report")."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import Sex
from grants.models import Programme


class Definition(models.TextChoices):
    """What an indicator counts: each is one figure of `reports.figures.impact_figures`,
    computed there and nowhere else (`reports.indicators.FIGURE_OF`)."""

    ENTERPRISES_SUPPORTED = "enterprises_supported", _("Enterprises supported")
    COOPERATIVES_SUPPORTED = "cooperatives_supported", _("Cooperatives supported")
    FAMILIES_SUPPORTED = "families_with_non_cash_benefits", _("Families with non-cash benefits")
    PEOPLE_TRAINED = "people_trained", _("People trained")
    INVESTMENT_EUR = "investment_eur", _("Investment (EUR)")
    SURVIVAL_12M = "survival_rate_12m", _("Businesses operating after 12 months")
    JOBS_CREATED = "jobs_created", _("Jobs")


class Indicator(models.Model):
    """One of a programme's indicators: what the donor asked to be counted, with its
    baseline and its targets per year (and per sex where the donor asks)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    code = models.CharField(
        _("code"),
        max_length=20,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", _("Letters, digits, dots, - and _ only."))
        ],
        help_text=_("As in the donor's logframe, e.g. 1.1 or OC2."),
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_sr_latn = models.CharField(_("name (Serbian, Latin script)"), max_length=200)
    name_sq = models.CharField(_("name (Albanian)"), max_length=200)
    definition = models.CharField(_("definition"), max_length=40, choices=Definition.choices)
    baseline = models.DecimalField(
        _("baseline"),
        max_digits=14,
        decimal_places=3,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("In the figure's unit: a count, EUR, or a share from 0 to 1 for survival."),
    )

    class Meta:
        ordering = ["programme", "position", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="indicator_code_once_per_programme")
        ]

    def __str__(self):
        return f"{self.code} {self.name_en}"

    def name_in(self, language):
        """The name in `language` (en, sr-latn, sq), English for any other."""
        return {"sr-latn": self.name_sr_latn, "sq": self.name_sq}.get(language) or self.name_en


class IndicatorTarget(models.Model):
    """The value an indicator should reach in one year: for everybody (sex empty), or
    for the people of one sex where the donor asks for it."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    sex = models.CharField(
        _("sex"), max_length=20, blank=True, choices=Sex.choices, help_text=_("Empty: everybody.")
    )
    value = models.DecimalField(
        _("target"), max_digits=14, decimal_places=3, validators=[MinValueValidator(0)]
    )

    class Meta:
        ordering = ["indicator", "year", "sex"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "year", "sex"], name="indicator_target_once_per_year_sex"
            )
        ]

    def __str__(self):
        return f"{self.indicator.code} {self.year} {self.sex}".strip()


def report_key(extension):
    # Never a user-supplied name: a random key under the month, beside no document.
    now = timezone.now()
    return f"donor-reports/{now:%Y/%m}/{uuid.uuid4().hex}.{extension}"


class DonorReport(models.Model):
    """A period report for a programme's donor: asked for on a page, written in the
    background (`reports.tasks.generate_donor_report`), stored privately and
    downloadable again by those who may read the programme's reports."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Being written")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Language(models.TextChoices):
        # Named in the reader's language: a Serbian page offers "engleski".
        EN = "en", _("English")
        SR_LATN = "sr-latn", _("Serbian (Latin)")
        SQ = "sq", _("Albanian")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="donor_reports")
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default=Language.EN)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    step = models.CharField(max_length=40, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    xlsx = models.CharField(max_length=255, blank=True)
    pdf = models.CharField(max_length=255, blank=True)
    min_group_size = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("donor report")
        verbose_name_plural = _("donor reports")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(date_from__lte=models.F("date_to")), name="donor_report_period"
            )
        ]

    def __str__(self):
        return f"{self.programme_id} {self.date_from}–{self.date_to}"

    @property
    def is_year(self):
        return (
            self.date_from.month == 1
            and self.date_from.day == 1
            and self.date_to.month == 12
            and self.date_to.day == 31
            and self.date_from.year == self.date_to.year
        )
