"""Calls for applications: a programme opens one or more, each in its own window, for
some or all of its country's centres, with its share of the programme's budget."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils.translation import gettext_lazy as _

from applicants.models import IntegrationCentre
from applicants.roles import uses_public_labels
from core.money import cents

from .. import workflow as wf
from .common import MONEY
from .finance import Commitment, DeliveryLine


class CallQuerySet(models.QuerySet):
    def open_on(self, day):
        return self.filter(opens__lte=day, closes__gte=day)

    def covering(self, centre_id):
        """Calls open to a centre: those naming it, and those naming none (every centre
        of the programme's country)."""
        through = Call.centres.through.objects.filter(call_id=OuterRef("pk"))
        return self.filter(~Exists(through) | Exists(through.filter(integrationcentre_id=centre_id)))


class Call(models.Model):
    programme = models.ForeignKey("grants.Programme", on_delete=models.CASCADE, related_name="calls")
    name = models.CharField(_("name"), max_length=200)
    centres = models.ManyToManyField(
        IntegrationCentre,
        blank=True,
        related_name="calls",
        verbose_name=_("centres"),
        help_text=_("Left empty: every centre of the programme's country."),
    )
    opens = models.DateField(_("opens"))
    closes = models.DateField(_("closes"))
    revision_deadline = models.DateField(
        _("revision deadline"),
        null=True,
        blank=True,
        help_text=_(
            "An application returned for changes may be sent again until this day, even after the call "
            "closed. Left blank: until the call closes."
        ),
    )
    budget = models.DecimalField(_("budget share"), **MONEY)

    objects = CallQuerySet.as_manager()

    class Meta:
        ordering = ["opens", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gte=F("opens")), name="call_dates"),
            models.CheckConstraint(
                condition=Q(revision_deadline__isnull=True) | Q(revision_deadline__gte=F("closes")),
                name="call_revision_after_close",
            ),
            models.CheckConstraint(condition=Q(budget__gte=0), name="call_budget_nonneg"),
        ]

    def __str__(self):
        return self.name

    @property
    def public_label(self):
        return _("Call %(number)s") % {"number": self.pk}

    def label_for(self, user):
        """The name, or (roles that know programmes by their public labels) the call's
        number: a call's name is often its programme's (docs/permissions.md)."""
        return self.public_label if uses_public_labels(user) else self.name

    def clean(self):
        errors = {}
        if self.opens and self.closes and self.closes < self.opens:
            errors["closes"] = _("A call closes on or after the day it opens.")
        if self.revision_deadline and self.closes and self.revision_deadline < self.closes:
            errors["revision_deadline"] = _("The revision deadline is on or after the day the call closes.")
        if self.budget is not None and self.programme_id is not None:
            others = (
                Call.objects.filter(programme_id=self.programme_id)
                .exclude(pk=self.pk)
                .aggregate(total=Sum("budget"))["total"]
            )
            if cents(others) + self.budget > self.programme.budget:
                errors["budget"] = _("The calls' budget shares add up to more than the programme's budget.")
        if errors:
            raise ValidationError(errors)

    def is_open(self, on=None):
        on = on or wf.today()
        return self.opens <= on <= self.closes

    @property
    def last_revision_day(self):
        """Until when an application returned for changes may be sent again."""
        return self.revision_deadline or self.closes

    def accepts_revision(self, on=None):
        on = on or wf.today()
        return self.opens <= on <= self.last_revision_day

    def committed_amount(self):
        """What the call's grants count for in the budget (grants.ledger's definition,
        restricted to the call): open commitments and delivered cost. Under the
        programme's lock for a budget step (services.take_transition) it is read once,
        like the programme's."""
        if not getattr(self, "_budget_locked", False):
            return self._committed()
        if not hasattr(self, "_committed_under_lock"):
            self._committed_under_lock = self._committed()
        return self._committed_under_lock

    def _committed(self):
        open_amount = (
            Commitment.objects.still_open()
            .filter(application__call_id=self.pk)
            .aggregate(total=Sum("amount"))
        )
        spent = (
            DeliveryLine.objects.at_cost()
            .filter(delivery__application__call_id=self.pk)
            .aggregate(total=Sum("amount"))
        )
        return cents(open_amount["total"]) + cents(spent["total"])

    def remaining_budget(self):
        return self.budget - self.committed_amount()
