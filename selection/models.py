"""A selection committee per call: its members and chair, their declarations of
conflict of interest, their independent scores on the programme's rubric, and the
offers of freed money to the next application on the reserve list."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assessments.models import RubricCriterion
from grants.models import MONEY, Call, GrantApplication


class Committee(models.Model):
    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="committee")
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="chaired_committees",
        verbose_name=_("chair"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # When the approver approved the ranked list: from then on, money freed in the call
    # is offered to the reserve list.
    list_approved_at = models.DateTimeField(null=True, blank=True)
    list_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        permissions = [("score_application", "Score applications as a committee member")]

    def __str__(self):
        return str(self.call)


class CommitteeMember(models.Model):
    committee = models.ForeignKey(Committee, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="committee_seats"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["committee", "id"]
        constraints = [models.UniqueConstraint(fields=["committee", "user"], name="committee_member_unique")]

    def __str__(self):
        return self.user.get_full_name() or self.user.username


class Declaration(models.Model):
    """A member's declaration on one application: a conflict of interest or none. A
    declared conflict keeps them from seeing and scoring it."""

    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="declarations")
    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="declarations")
    conflict = models.BooleanField(_("conflict of interest"))
    note = models.TextField(_("note"), blank=True, max_length=1000)
    declared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member", "application"]
        constraints = [
            models.UniqueConstraint(fields=["member", "application"], name="declaration_unique"),
        ]

    def __str__(self):
        return f"{self.member} #{self.application_id}: {'conflict' if self.conflict else 'none'}"


class Scoring(models.Model):
    """One member's scores of one application, given at once and never changed (each
    member scores independently)."""

    member = models.ForeignKey(CommitteeMember, on_delete=models.CASCADE, related_name="scorings")
    application = models.ForeignKey(
        GrantApplication, on_delete=models.CASCADE, related_name="committee_scorings"
    )
    weighted = models.DecimalField(_("weighted score"), max_digits=4, decimal_places=2)
    lowest = models.PositiveSmallIntegerField(_("lowest criterion score"))
    scored_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["application", "member"]
        constraints = [
            models.UniqueConstraint(fields=["member", "application"], name="scoring_unique"),
            models.CheckConstraint(
                condition=Q(weighted__gte=1) & Q(weighted__lte=5), name="scoring_weighted_range"
            ),
        ]

    def __str__(self):
        return f"{self.member} #{self.application_id}: {self.weighted}"


class ScoringLine(models.Model):
    scoring = models.ForeignKey(Scoring, on_delete=models.CASCADE, related_name="lines")
    criterion = models.ForeignKey(RubricCriterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])

    class Meta:
        ordering = ["scoring", "criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["scoring", "criterion"], name="scoring_line_unique"),
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="scoring_line_range"),
        ]

    def __str__(self):
        return f"{self.criterion_id}: {self.score}"


class ReserveOffer(models.Model):
    """Money freed in a call (a grant withdrawn, cancelled or delivered under budget)
    offered to the first application on its reserve list that it now covers: a task
    for the call's approver, who approves the application or declines."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="reserve_offers")
    application = models.ForeignKey(GrantApplication, on_delete=models.CASCADE, related_name="reserve_offers")
    freed_by = models.ForeignKey(
        GrantApplication, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=30)
    available = models.DecimalField(_("available in the call"), **MONEY)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application"], condition=Q(status="open"), name="reserve_offer_one_open"
            ),
        ]

    def __str__(self):
        return f"#{self.application_id} ({self.status})"
