"""Reads of the selection: the calls a user works on, each application's committee
result, and the call's ranked list with its cut-off and reserve.

The ranking, one definition (docs/selection.md):
- eligible: the call's applications that are submitted, in training or already funded,
  with at least one member's scores (the committee result);
- result: the mean or the median (Programme.committee_result) of the members' weighted
  scores; spread = highest − lowest member score;
- order: higher result first; ties: higher lowest member score, then earlier
  submission, then lower id;
- cut-off: down the order, each application's amount (approved amount once approved,
  else the requested total) is added up; "fund" while the sum stays within the call's
  budget share and the result reaches the programme's pass mark; from the first that
  does not fit, every application that reaches the pass mark is on the reserve list
  (in that order); below the pass mark: "do not fund". A grant already approved counts
  as funded wherever it ranks.
"""

import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from applicants.selectors import centre_ids_query
from core.money import ZERO, cents
from grants.models import Call, CommitteeResult, GrantApplication
from grants.workflow import State

from .models import CommitteeMember, Declaration, ReserveOffer, Scoring
from .permissions import can_approve_list

FUND, RESERVE, DO_NOT_FUND = "fund", "reserve", "do_not_fund"
RECOMMENDATIONS = {FUND: _("Fund"), RESERVE: _("Reserve"), DO_NOT_FUND: _("Do not fund")}
# Not ranked: not sent, or ended without a grant.
NOT_RANKED = (State.DRAFT, State.REJECTED, State.WITHDRAWN, State.CANCELLED)
FUNDED = (State.APPROVED, State.EQUIPMENT_DELIVERED, State.FOLLOW_UP, State.COMPLETED, State.DISCONTINUED)
TWO_PLACES = Decimal("0.01")


def committee_result(scores, method):
    """The committee's result from the members' weighted scores (None without any)."""
    if not scores:
        return None
    if method == CommitteeResult.MEDIAN:
        value = statistics.median(scores)
    else:
        value = sum(scores, ZERO) / len(scores)
    return Decimal(value).quantize(TWO_PLACES)


@dataclass
class Row:
    application: GrantApplication
    scores: list
    result: Decimal
    rank: int = 0
    amount: Decimal = ZERO
    cumulative: Decimal = ZERO
    recommendation: str = DO_NOT_FUND
    open_offer: bool = False
    notes: list = field(default_factory=list)

    @property
    def spread(self):
        return max(self.scores) - min(self.scores)

    @property
    def lowest(self):
        return min(self.scores)

    @property
    def recommendation_label(self):
        return RECOMMENDATIONS[self.recommendation]


def calls_for(user):
    """The calls a user works on: those whose committee they sit on, and (programme
    managers, field officers) the calls of their centres' countries."""
    if not user.is_authenticated:
        return Call.objects.none()
    seats = Q(committee__members__user=user) | Q(committee__chair=user)
    staff = Q(programme__country__centres__in=centre_ids_query(user)) & (
        Q(centres__isnull=True) | Q(centres__in=centre_ids_query(user))
    )
    ids = Call.objects.filter(seats | staff).values("pk")
    return Call.objects.filter(pk__in=ids).select_related("programme", "committee").order_by("-opens", "id")


def ranked_list(call):
    """The call's ranked list (module docstring): three queries."""
    programme = call.programme
    applications = list(
        GrantApplication.objects.filter(call=call)
        .exclude(state__in=NOT_RANKED)
        .select_related("applicant", "centre")
    )
    scores = {}
    for application_id, weighted in Scoring.objects.filter(application__call=call).values_list(
        "application_id", "weighted"
    ):
        scores.setdefault(application_id, []).append(weighted)
    offered = set(
        ReserveOffer.objects.filter(call=call, status=ReserveOffer.Status.OPEN).values_list(
            "application_id", flat=True
        )
    )
    rows = [
        Row(
            application=app,
            scores=scores[app.pk],
            result=committee_result(scores[app.pk], programme.committee_result),
            open_offer=app.pk in offered,
        )
        for app in applications
        if app.pk in scores
    ]
    rows.sort(
        key=lambda r: (
            -r.result,
            -r.lowest,
            r.application.submitted_at is None,
            r.application.submitted_at or 0,
            r.application.pk,
        )
    )
    total, cut = ZERO, False
    for rank, row in enumerate(rows, start=1):
        app = row.application
        row.rank = rank
        row.amount = cents(app.approved_amount if app.approved_amount is not None else app.requested_total)
        if app.state in FUNDED:
            row.recommendation = FUND
            total += row.amount
        elif row.result < programme.pass_mark:
            row.recommendation = DO_NOT_FUND
        elif not cut and total + row.amount <= call.budget:
            row.recommendation = FUND
            total += row.amount
        else:
            cut = True
            row.recommendation = RESERVE
        row.cumulative = total
    return rows


def visible_rows(user, call, rows):
    """The ranked list as a member reads it: without the applications they declared a
    conflict on, and without results of those they have not scored yet (staff who do
    not sit on the committee read it all)."""
    member = CommitteeMember.objects.filter(committee__call=call, user=user).first()
    if member is None:
        return [(row, True) for row in rows]
    conflicts = set(
        Declaration.objects.filter(member=member, conflict=True).values_list("application_id", flat=True)
    )
    scored = set(Scoring.objects.filter(member=member).values_list("application_id", flat=True))
    return [(row, row.application.pk in scored) for row in rows if row.application.pk not in conflicts]


def member_applications(member):
    """The applications a member has to work on: their call's submitted and training
    ones, without those they declared a conflict on; each with `declared`, `scored`."""
    conflicts = Declaration.objects.filter(member=member, conflict=True).values("application_id")
    declared = set(Declaration.objects.filter(member=member).values_list("application_id", flat=True))
    scored = set(Scoring.objects.filter(member=member).values_list("application_id", flat=True))
    applications = list(
        GrantApplication.objects.filter(
            call_id=member.committee.call_id, state__in=(State.SUBMITTED, State.BUSINESS_TRAINING)
        )
        .exclude(pk__in=conflicts)
        .exclude(applicant__user_id=member.user_id)
        .select_related("centre")
        .order_by("submitted_at", "id")
    )
    for app in applications:
        app.declared = app.pk in declared
        app.scored = app.pk in scored
    return applications


def scores_of(application):
    """Each member's scoring of the application with its lines (two queries)."""
    return list(
        Scoring.objects.filter(application=application)
        .select_related("member__user")
        .prefetch_related("lines__criterion")
        .order_by("member_id")
    )


def open_offers_for(user):
    """The reserve offers waiting for this user's decision (calls they approve)."""
    offers = list(
        ReserveOffer.objects.filter(status=ReserveOffer.Status.OPEN, call__in=calls_for(user).values("pk"))
        .select_related("call__programme", "application")
        .order_by("created_at", "id")
    )
    return [offer for offer in offers if can_approve_list(user, offer.call)]
