"""Training as a service of its own, apart from grant-related training (docs/reports.md
"Training without a grant"): people trained without a grant application, participants
counted without names, business training and network meetings held.

`people_trained` of the programme figures (reports.figures.impact) counts only people
trained through a grant application; nobody is counted in both. Each figure is one
aggregate query over the cohorts and meetings of the user's centres (and programmes or
donors, for a scoped user)."""

from django.db import connections
from django.db.models import Count, F, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from applicants.selectors import centre_scope
from assessments.models import (
    Enrolment,
    SessionHeadcount,
    TrainingCohort,
    TrainingMeeting,
    TrainingSession,
    training_completed_expression,
)
from assessments.selectors import sessions_attended, sessions_of_cohort
from grants.selectors import programme_scope_q

from .scope import NO_FILTERS, TARGET_GROUP_FIELDS
from .small_groups import sees_small_groups
from .small_numbers import threshold

TRAINING_SERVICE_FIGURES = (
    "people_trained",
    "participants_counted",
    "participant_sessions",
    "meetings_held",
    "business_training_meetings",
    "network_meetings",
    "meeting_participants",
)


def _scoped(queryset, user, filters, *, programme="programme", centre="centre"):
    queryset = queryset.filter(programme_scope_q(user, programme), **{f"{centre}_id__in": centre_scope(user)})
    if filters.programme:
        queryset = queryset.filter(**{f"{programme}_id": filters.programme})
    if filters.donor:
        queryset = queryset.filter(**{f"{programme}__donor": filters.donor})
    if filters.currency:
        queryset = queryset.filter(**{f"{programme}__currency": filters.currency})
    if filters.centre:
        queryset = queryset.filter(**{f"{centre}_id": filters.centre})
    return queryset.filter(filters.country_q(f"{centre}__"))


def _people_trained(cohorts, filters):
    """Distinct registered people who completed a cohort they joined without a grant
    application, by the one rule of `assessments.models.training_completed`; dated by
    the cohort's last session."""
    last_session = (
        TrainingSession.objects.filter(cohort=OuterRef("cohort"))
        .order_by()
        .values("cohort")
        .annotate(last=Max("date"))
        .values("last")
    )
    enrolments = (
        Enrolment.objects.filter(application__isnull=True, active=True, cohort__in=cohorts.values("pk"))
        .annotate(
            sessions=sessions_of_cohort(OuterRef("cohort")),
            present=sessions_attended(OuterRef("pk")),
            finished_on=Subquery(last_session),
        )
        .filter(
            training_completed_expression(
                attended="present", sessions="sessions", threshold="cohort__programme__training_threshold"
            )
        )
        .filter(filters.period_q("finished_on"))
    )
    if filters.target_group:
        field = TARGET_GROUP_FIELDS[filters.target_group]
        enrolments = enrolments.filter(**{field: True})
    return enrolments.aggregate(people=Count("applicant_id", distinct=True))["people"]


# Per cohort, the session with the most participants counted, summed over the cohorts,
# and every session's count summed (participant-sessions).
# A person counted without a name cannot be told apart from one session to the next,
# so this is the least number of people the cohorts reached (docs/reports.md).
PARTICIPANTS_SQL = """
SELECT COALESCE(SUM(c.most), 0), COALESCE(SUM(c.every), 0)
  FROM (SELECT t.grp, MAX(t.total) AS most, SUM(t.total) AS every
          FROM ({totals}) t GROUP BY t.grp) c
"""


def _participants(cohorts, filters):
    """(participants counted: the least number of people, participant-sessions), in
    one query."""
    per_session = (
        SessionHeadcount.objects.filter(session__cohort__in=cohorts.values("pk"))
        .filter(filters.period_q("session__date"))
        .order_by()
        .values("session_id", grp=F("session__cohort_id"))
        .annotate(total=Sum("count"))
    )
    sql, params = per_session.query.get_compiler(per_session.db).as_sql()
    with connections[per_session.db].cursor() as cursor:
        cursor.execute(PARTICIPANTS_SQL.format(totals=sql), params)
        least, every = cursor.fetchone()
    return int(least), int(every)


def training_service_figures(user, filters=NO_FILTERS):
    """The figures of training without a grant for `user`'s centres, restricted by
    `filters` (four queries). Participants counted without names and meetings have no
    target group: with a target-group filter they are None (unknown), not zero.

    A count of registered people under the small-numbers threshold is withheld (None,
    named in `withheld`) from the roles that do not read personal data, as the
    programme figures are (reports.figures.small_groups)."""
    cohorts = _scoped(TrainingCohort.objects.all(), user, filters)
    figures = dict.fromkeys(TRAINING_SERVICE_FIGURES)
    figures["people_trained"] = _people_trained(cohorts, filters)
    if not filters.target_group:
        figures["participants_counted"], figures["participant_sessions"] = _participants(cohorts, filters)
        meetings = _scoped(TrainingMeeting.objects.all(), user, filters).filter(filters.period_q("held_on"))
        figures.update(
            meetings.aggregate(
                meetings_held=Count("pk"),
                business_training_meetings=Count("pk", filter=Q(kind=TrainingMeeting.Kind.BUSINESS_TRAINING)),
                network_meetings=Count("pk", filter=Q(kind=TrainingMeeting.Kind.NETWORK)),
                meeting_participants=Coalesce(Sum("participants"), 0),
            )
        )
    withheld = []
    people = figures["people_trained"]
    if people and people < threshold() and not sees_small_groups(user):
        figures["people_trained"] = None
        withheld.append("people_trained")
    return {**figures, "withheld": withheld}
