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
from django.utils.translation import gettext as _

from applicants import facts
from applicants.models import IntegrationCentre
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

from .breakdowns import context_for
from .scope import NO_FILTERS, TARGET_GROUP_FIELDS
from .small_groups import sees_small_groups, withhold, withhold_small_groups
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


def _completed_enrolments(cohorts, filters):
    """The active enrolments without a grant application of `cohorts` that completed
    the course, by the one rule of `assessments.models.training_completed`; dated by
    the cohort's last session, narrowed by the target group of `filters`."""
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
    return enrolments


def _people_trained(cohorts, filters):
    """Distinct registered people who completed a cohort they joined without a grant
    application."""
    return _completed_enrolments(cohorts, filters).aggregate(people=Count("applicant_id", distinct=True))[
        "people"
    ]


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


# ---- broken down as donors ask ---------------------------------------------------------

TRAINING_DIMENSIONS = ("sex", "age_band", "centre")
# The figures of a row of the breakdown: people trained without a grant, registered and
# counted without names, and the two together.
TRAINING_PEOPLE = ("people_trained", "people_registered", "people_counted")
# Small numbers (small_groups.withhold): the sum is sized by itself and hides its parts
# with it; the parts are sized by the smaller of them and hidden together (one shown
# beside the sum would give the other away).
TRAINING_FAMILIES = (
    (("people_trained",), TRAINING_PEOPLE),
    (("people_registered", "people_counted"), ("people_registered", "people_counted")),
)


def _registered_by(enrolments, key):
    """{key: distinct registered people} of the completed `enrolments`, grouped by `key`."""
    rows = (
        enrolments.annotate(group_key=key)
        .order_by()
        .values("group_key")
        .annotate(people=Count("applicant_id", distinct=True))
        .values_list("group_key", "people")
    )
    return dict(rows)


def _counted_rows(cohorts, filters):
    """(centre, sex, age band, count) of the participants counted without names at each
    cohort's fullest session in the period (one query): the people `participants_counted`
    adds up, so the groups of a breakdown sum to it. On a tie, the latest session."""
    fullest = (
        TrainingSession.objects.filter(cohort=OuterRef("session__cohort"))
        .filter(filters.period_q("date"))
        .annotate(total=Sum("headcounts__count"))
        .filter(total__gt=0)
        .order_by("-total", "-date", "-pk")
        .values("pk")[:1]
    )
    return list(
        SessionHeadcount.objects.filter(
            session__cohort__in=cohorts.values("pk"), session_id=Subquery(fullest)
        )
        .order_by()
        .values("session__cohort__centre_id", "sex", "age_band")
        .annotate(people=Sum("count"))
        .values_list("session__cohort__centre_id", "sex", "age_band", "people")
    )


def _groups(user, name, context, registered, counted):
    """(key, label) of each group of `name`: every sex and age band of the bands in
    force (and any other band a headcount was recorded in, by its own key), then "not
    recorded"; the centres that have someone, by the label `user` may read."""
    if name == "sex":
        return facts.sex_groups()
    if name == "age_band":
        bands = facts.age_bands(context.bounds)
        known = {key for key, _label in bands}
        others = sorted({key for key in [*registered, *counted] if key not in known and key != facts.UNKNOWN})
        return [*bands, *((key, key) for key in others), (facts.UNKNOWN, _("Not recorded"))]
    centres = IntegrationCentre.objects.filter(pk__in={*registered, *counted})
    return sorted(((c.pk, str(c.label_for(user))) for c in centres), key=lambda pair: (pair[1], pair[0]))


def _people_row(registered, counted):
    """The three figures of a group; without a count of people without names (a target
    group filter), the sum is unknown too."""
    return {
        "people_trained": None if counted is None else registered + counted,
        "people_registered": registered,
        "people_counted": counted,
    }


def training_breakdown(user, filters=NO_FILTERS):
    """The training without a grant broken down as donors ask, exactly (nothing
    withheld: `training_service_report`): `by_sex`, `by_age_band`, `by_centre` (rows
    {"key", "label", "people_trained", "people_registered", "people_counted"}), `total`
    (the same three figures) and `meetings_by_kind` (rows {"key", "label", "meetings",
    "participants"}).

    A registered person counts once per group, by their facts (age at the end of the
    period, else today, in the programme's bands with a programme filter, else the
    default bands); people counted without names count as their cohort's fullest
    session recorded them (blank sex or band: "not recorded"). They and the meetings
    have no target group: with a target-group filter their figures are None. Seven
    queries at most, whatever the number of rows."""
    cohorts = _scoped(TrainingCohort.objects.all(), user, filters)
    context = context_for(filters, ("age_band",))
    enrolments = _completed_enrolments(cohorts, filters)
    keys = {
        "sex": facts.sex_expression("applicant__sex"),
        "age_band": facts.age_band_expression("applicant__date_of_birth", context.reference, context.bounds),
        "centre": F("cohort__centre_id"),
    }
    registered = {name: _registered_by(enrolments, key) for name, key in keys.items()}
    anonymous = not filters.target_group
    counted = {name: {} for name in TRAINING_DIMENSIONS}
    for centre, sex, band, people in _counted_rows(cohorts, filters) if anonymous else ():
        for name, key in (
            ("sex", facts.sex_key(sex)),
            ("age_band", band or facts.UNKNOWN),
            ("centre", centre),
        ):
            counted[name][key] = counted[name].get(key, 0) + people
    result = {}
    for name in TRAINING_DIMENSIONS:
        result[f"by_{name}"] = [
            {
                "key": key,
                "label": str(label),
                **_people_row(registered[name].get(key, 0), counted[name].get(key, 0) if anonymous else None),
            }
            for key, label in _groups(user, name, context, registered[name], counted[name])
        ]
    counted_total = sum(counted["sex"].values()) if anonymous else None
    # Each person has one sex: the groups by sex add up to the distinct people.
    result["total"] = _people_row(sum(registered["sex"].values()), counted_total)
    result["meetings_by_kind"] = _meetings_by_kind(user, filters)
    return result


def _meetings_by_kind(user, filters):
    """Each kind of meeting: how many were held and how many took part (one query)."""
    counts = {}
    if not filters.target_group:
        meetings = _scoped(TrainingMeeting.objects.all(), user, filters).filter(filters.period_q("held_on"))
        counts = {
            kind: (meetings, participants)
            for kind, meetings, participants in meetings.order_by()
            .values("kind")
            .annotate(meetings=Count("pk"), participants=Sum("participants"))
            .values_list("kind", "meetings", "participants")
        }
    return [
        {
            "key": kind,
            "label": str(label),
            "meetings": None if filters.target_group else counts.get(kind, (0, 0))[0],
            "participants": None if filters.target_group else counts.get(kind, (0, 0))[1],
        }
        for kind, label in TrainingMeeting.Kind.choices
    ]


def _protected(breakdown, withheld_from):
    """`breakdown` with its small numbers withheld by `withheld_from(rows, totals)`: each
    breakdown is one column of groups with the total below it (small_numbers.protect);
    meetings are not people and are shown as they are."""
    shown = {"meetings_by_kind": breakdown["meetings_by_kind"]}
    total = {**breakdown["total"], "withheld": [], "below_threshold": []}
    for name in TRAINING_DIMENSIONS:
        rows, column_total = withheld_from(breakdown[f"by_{name}"], breakdown["total"])
        shown[f"by_{name}"] = rows
        # The total is one figure whichever column it closes: hidden if any hides it.
        for field in ("withheld", "below_threshold"):
            total[field] = sorted({*total[field], *column_total[field]})
    for figure in total["withheld"]:
        total[figure] = None
    shown["total"] = total
    return shown


def training_service_report(user, filters=NO_FILTERS):
    """`training_service_figures` and `training_breakdown` as `user` may read them on
    screen and in the API: managers exactly, the others with small numbers withheld
    (`small_groups.withhold_small_groups`)."""
    breakdown = _protected(
        training_breakdown(user, filters),
        lambda rows, totals: withhold_small_groups(
            user, rows, totals=totals, complementary=True, families=TRAINING_FAMILIES
        ),
    )
    return {**training_service_figures(user, filters), **breakdown}


def protected_training_service(user, filters=NO_FILTERS):
    """`training_service_report` as it leaves the programme team (exports, the donor
    report): small numbers withheld whoever asks (`small_groups.withhold`)."""
    breakdown = _protected(
        training_breakdown(user, filters),
        lambda rows, totals: withhold(rows, totals=totals, complementary=True, families=TRAINING_FAMILIES),
    )
    figures = training_service_figures(user, filters)
    people = figures["people_trained"]
    if people and people < threshold():
        figures = {
            **figures,
            "people_trained": None,
            "withheld": sorted({*figures["withheld"], "people_trained"}),
        }
    return {**figures, **breakdown}
