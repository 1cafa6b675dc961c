"""What field officers observe and score: rubrics, assessments, business-training cohorts
with attendance, and monitoring visits after delivery."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast, Round
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applicants.models import Sex
from grants.models import MONEY, GrantApplication, Programme
from grants.workflow import passes_mark

# ---- the rule "training completed", in Python and in SQL side by side ----------------
#
# Completed: sessions attended / all sessions of the cohort ≥ the programme's threshold,
# and a cohort without sessions completes nobody. Compared in whole numbers (attended ×
# 100 ≥ threshold × 100 × sessions: the threshold has two decimal places) so that no
# binary fraction decides a boundary case. The approve guard and the certificate
# (`Enrolment.is_completed`), the attendance sheet, the approvals queue
# (`training_completed_expression`) and the report's people trained
# (`TRAINING_COMPLETED_SQL`) all read this; tests/test_training.py checks they agree.


def training_completed(*, attended, sessions, threshold):
    return sessions > 0 and attended * 100 >= int(threshold * 100) * sessions


def training_completed_expression(*, attended, sessions, threshold):
    """The rule as a filter over a query's own expressions (field paths or annotations)."""
    return Q(GreaterThan(F(sessions), 0)) & Q(
        GreaterThanOrEqual(F(attended) * 100, Round(F(threshold) * 100) * F(sessions))
    )


# The rule in a raw SQL statement: format with the statement's column expressions.
TRAINING_COMPLETED_SQL = "{sessions} > 0 AND {attended} * 100 >= ROUND({threshold} * 100) * {sessions}"


class RubricCriterion(models.Model):
    class Code(models.TextChoices):
        VIABILITY = "viability", _("Viability")
        SKILLS = "skills", _("Skills and experience")
        MARKET = "market", _("Market")
        NEED = "need", _("Need")
        COMMITMENT = "commitment", _("Commitment")

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="rubric")
    criterion = models.CharField(max_length=30)
    label = models.CharField(max_length=100)
    weight = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "criterion"], name="rubric_unique"),
            models.CheckConstraint(condition=Q(weight__gt=0), name="rubric_weight_positive"),
        ]
        verbose_name_plural = _("rubric criteria")

    def __str__(self):
        return f"{self.label} ({self.weight})"


class Assessment(models.Model):
    class Recommendation(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REJECT = "reject", _("Reject")
        REVISE = "revise", _("Revise")

    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="assessments")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments"
    )
    site_visit_on = models.DateField(_("site visit date"), null=True, blank=True)
    notes = models.TextField(_("site visit notes"), blank=True, max_length=8000)
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation)
    reasons = models.TextField(_("reasons"), blank=True, max_length=8000)
    weighted_score = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    # False when a criterion of the rubric has no score: the approve guard says so.
    complete = models.BooleanField(default=False)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(is_current=True),
                name="one_current_assessment",
            ),
        ]

    def __str__(self):
        return f"assessment of {self.application_id} by {self.assessor_id}"

    @property
    def passes(self):
        """As stored (the API's `passes`): complete, and its score at the pass mark by the
        workflow's one rule, which the approve guard and the approvals queue also ask."""
        return self.complete and passes_mark(self.weighted_score, self.application.programme.pass_mark)

    def compute_weighted_score(self):
        rubric = list(self.application.programme.rubric.all())
        scores = {s.criterion_id: s.score for s in self.scores.all()}
        if not rubric or any(c.pk not in scores for c in rubric):
            return None
        total_weight = sum(c.weight for c in rubric)
        weighted = sum(c.weight * scores[c.pk] for c in rubric) / total_weight
        return weighted.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class AssessmentScore(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "criterion"], name="score_unique"),
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="score_one_to_five"),
        ]

    def __str__(self):
        return f"{self.criterion_id}: {self.score}"


class TrainingCohort(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cohorts")
    centre = models.ForeignKey(
        "applicants.IntegrationCentre", on_delete=models.PROTECT, related_name="cohorts"
    )
    title = models.CharField(_("course title"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class TrainingSession(models.Model):
    cohort = models.ForeignKey(TrainingCohort, on_delete=models.CASCADE, related_name="sessions")
    date = models.DateField()
    hours = models.DecimalField(max_digits=4, decimal_places=1, default=Decimal("3.0"))

    class Meta:
        ordering = ["date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="session_hours_positive"),
            # Target of the composite foreign key that keeps attendance in its cohort.
            models.UniqueConstraint(fields=["id", "cohort"], name="session_id_cohort"),
        ]

    def __str__(self):
        return f"{self.cohort} {self.date}"


class Enrolment(models.Model):
    """A person in a cohort: through their grant application (business training before
    the grant), or, training being a service of its own, a registered applicant
    directly, without any application. Exactly one of the two."""

    cohort = models.ForeignKey(TrainingCohort, on_delete=models.PROTECT, related_name="enrolments")
    application = models.ForeignKey(
        GrantApplication, null=True, blank=True, on_delete=models.CASCADE, related_name="enrolments"
    )
    applicant = models.ForeignKey(
        "applicants.Applicant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="direct_enrolments",
    )
    enrolled_at = models.DateTimeField(default=timezone.now)
    # An applicant moved to another cohort keeps the old enrolment, inactive.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(active=True), name="one_active_enrolment"
            ),
            models.UniqueConstraint(fields=["id", "cohort"], name="enrolment_id_cohort"),
            models.UniqueConstraint(
                fields=["cohort", "applicant"],
                condition=Q(active=True, applicant__isnull=False),
                name="one_direct_enrolment_per_cohort",
            ),
            models.CheckConstraint(
                condition=Q(application__isnull=False, applicant__isnull=True)
                | Q(application__isnull=True, applicant__isnull=False),
                name="enrolment_application_or_applicant",
            ),
        ]

    def __str__(self):
        return f"{self.application_id or f'applicant {self.applicant_id}'} in {self.cohort_id}"

    @property
    def is_direct(self):
        """Enrolled without a grant application (training as its own service)."""
        return self.application_id is None

    def attendance_counts(self):
        """(sessions of the cohort, sessions attended): from the query's annotations when
        it made them (assessments.selectors.active_enrolment), else counted now."""
        if hasattr(self, "sessions_count") and hasattr(self, "present_count"):
            return self.sessions_count, self.present_count
        return self.cohort.sessions.count(), self.attendance.filter(present=True).count()

    def attendance_share(self):
        total, present = self.attendance_counts()
        if total == 0:
            return Decimal("0")
        return Decimal(present) / Decimal(total)

    def is_completed(self):
        total, present = self.attendance_counts()
        # The cohort's programme is the application's (enrol checks it), already loaded.
        programme = self.application.programme if self.application_id else self.cohort.programme
        return training_completed(attended=present, sessions=total, threshold=programme.training_threshold)


class SessionHeadcount(models.Model):
    """Participants of one session counted without personal data, where the cohort's
    programme allows it (Programme.anonymous_training): how many, by sex and age band
    as the breakdowns know them (blank: not recorded). No names, ever."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="headcounts")
    sex = models.CharField(_("sex"), max_length=10, choices=Sex, blank=True)
    age_band = models.CharField(_("age band"), max_length=10, blank=True)
    count = models.PositiveSmallIntegerField(_("participants"), validators=[MaxValueValidator(1000)])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["session", "sex", "age_band"]
        constraints = [
            models.UniqueConstraint(fields=["session", "sex", "age_band"], name="headcount_unique"),
            models.CheckConstraint(condition=Q(count__lte=1000), name="headcount_at_most_1000"),
        ]

    def __str__(self):
        return f"{self.count} at {self.session_id} ({self.sex or '-'}, {self.age_band or '-'})"


class TrainingMeeting(models.Model):
    """A business training or network meeting held by a centre ("530 business training
    and network meetings"): when, what kind, how many took part. Counts only."""

    class Kind(models.TextChoices):
        BUSINESS_TRAINING = "business_training", _("Business training")
        NETWORK = "network", _("Network meeting")

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="meetings")
    centre = models.ForeignKey(
        "applicants.IntegrationCentre", on_delete=models.PROTECT, related_name="meetings"
    )
    held_on = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    participants = models.PositiveSmallIntegerField(_("participants"), validators=[MaxValueValidator(1000)])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(participants__lte=1000), name="meeting_at_most_1000"),
        ]
        indexes = [models.Index(fields=["centre", "held_on"])]

    def __str__(self):
        return f"{self.kind} {self.held_on} ({self.participants})"


class Attendance(models.Model):
    """Attendance of one enrolment at one session. `cohort` is repeated so that the
    database (composite foreign keys, see migration 0002) refuses attendance for a
    session of another cohort."""

    cohort = models.ForeignKey(TrainingCohort, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="attendance")
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    present = models.BooleanField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "enrolment"], name="attendance_unique"),
        ]
        indexes = [
            # Sessions attended per enrolment (the people-trained figure), counted in the
            # index alone and in enrolment order.
            models.Index(
                fields=["enrolment"], condition=Q(present=True), name="attendance_present_enrolment"
            ),
        ]

    def __str__(self):
        return f"{self.enrolment_id}@{self.session_id}: {self.present}"


# ---- the rule "a visit inside its window", in Python and in SQL side by side ---------
#
# A visit is made at the earliest VISIT_EARLY_MARGIN_DAYS before it is due (the service
# refuses an earlier date), and only a visit recorded inside that window tells what it
# says: a 12-month visit dated on the delivery day does not count as "operating after
# 12 months" (the survival and jobs figures, docs/reports.md). No upper bound: a late
# visit still sees the business at least that many months on.


def visit_window_opens(due_on):
    return due_on - datetime.timedelta(days=settings.VISIT_EARLY_MARGIN_DAYS)


def visit_in_window(visited_on, due_on):
    return visited_on is not None and visited_on >= visit_window_opens(due_on)


def _window_opens_sql(prefix):
    # Cast back to a date: SQLite's date arithmetic gives a datetime text otherwise.
    days = datetime.timedelta(days=settings.VISIT_EARLY_MARGIN_DAYS)
    return Cast(F(f"{prefix}due_on") - days, models.DateField())


def visit_in_window_q(prefix=""):
    """The visit (reached by `prefix`, e.g. "twelve__") was recorded inside its window;
    false for a visit not recorded."""
    return Q(**{f"{prefix}visited_on__gte": _window_opens_sql(prefix)})


def visit_outside_window_q(prefix=""):
    """The negation of `visit_in_window_q`, nulls included (no visit, or not recorded)."""
    return Q(**{f"{prefix}visited_on__isnull": True}) | Q(
        **{f"{prefix}visited_on__lt": _window_opens_sql(prefix)}
    )


# Photos taken at one visit, uploaded with it (each checked and stripped of its EXIF
# data as every document is, grants.documents).
MAX_VISIT_PHOTOS = 5


class MonitoringVisit(models.Model):
    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="visits")
    months = models.PositiveSmallIntegerField()
    due_on = models.DateField(db_index=True)
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    # The day the grant ended (discontinued, or completed) while this visit was still to
    # be made: it is no longer owed. Kept, like every record: nothing is deleted.
    closed_on = models.DateField(_("no longer owed since"), null=True, blank=True)
    operating = models.BooleanField(_("business operating"), null=True)
    equipment_in_use = models.BooleanField(_("equipment in use"), null=True)
    monthly_revenue = models.DecimalField(_("monthly revenue"), null=True, blank=True, **MONEY)
    jobs_owner = models.PositiveSmallIntegerField(_("jobs: owner"), default=0)
    jobs_family = models.PositiveSmallIntegerField(_("jobs: family members"), default=0)
    jobs_employees = models.PositiveSmallIntegerField(_("jobs: employees"), default=0)
    notes = models.TextField(_("notes"), blank=True, max_length=8000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["application", "months"], name="visit_unique"),
            models.CheckConstraint(
                condition=Q(monthly_revenue__isnull=True) | Q(monthly_revenue__gte=0),
                name="visit_revenue_nonneg",
            ),
        ]
        indexes = [
            models.Index(fields=["visited_on", "due_on"]),
            # The visits still owed, by date: what officers are reminded of (a few
            # among many, README "Performance").
            models.Index(
                fields=["due_on", "id"],
                condition=Q(visited_on__isnull=True, closed_on__isnull=True),
                name="visit_owed_by_due",
            ),
        ]

    def __str__(self):
        return f"{self.months}-month visit of {self.application_id}"

    @property
    def window_opens(self):
        return visit_window_opens(self.due_on)

    @property
    def in_window(self):
        return visit_in_window(self.visited_on, self.due_on)

    @property
    def jobs(self):
        return self.jobs_owner + self.jobs_family + self.jobs_employees
