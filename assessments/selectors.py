"""Shared reads of cohorts, assessments and visits, filtered by permission in the
database, and the outcome indicators that the monitoring visits give."""

import datetime
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import connections
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Value,
    When,
    Window,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, FirstValue, RowNumber
from django.utils import timezone

from applicants import facts, roles
from applicants.models import DuplicateFlag
from applicants.selectors import centre_ids_query, centre_scope
from core.web import UncountedPage
from grants import workflow
from grants.selectors import applications_for, committed_by_programme, programme_scope_q
from grants.workflow import State

from .models import (
    Assessment,
    AssessmentScore,
    Attendance,
    Enrolment,
    MonitoringVisit,
    SessionHeadcount,
    TrainingCohort,
    TrainingMeeting,
    TrainingSession,
    training_completed,
    training_completed_expression,
    visit_in_window_q,
    visit_outside_window_q,
)

SURVIVAL_MONTHS = 12


def cohorts_for(user):
    if not user.is_authenticated or not roles.is_staff_member(user):
        return TrainingCohort.objects.none()
    if not user.has_perm("assessments.view_trainingcohort"):
        return TrainingCohort.objects.none()
    return (
        TrainingCohort.objects.filter(centre_id__in=centre_ids_query(user))
        .annotate(enrolled_count=Count("enrolments", filter=Q(enrolments__active=True)))
        .prefetch_related(Prefetch("sessions", queryset=TrainingSession.objects.order_by("date", "id")))
        .order_by("-created_at", "-id")
    )


# ---- training -----------------------------------------------------------------------


def attendance_sheet(cohort, *, today=None):
    """(sessions, rows) for the cohort's active enrolments, in three queries whatever
    the size of the cohort.

    Completion is `assessments.models.training_completed`, which the approve guard uses:
    sessions attended / all sessions of the cohort ≥ the programme's threshold. Someone
    enrolled after the first sessions is counted against all of them: a session missed
    is missed whatever the reason, and the threshold (80 % by default) is the
    programme's allowance for missed sessions; the certificate says they completed this
    course. `can_still_complete` tells the officer early when the sessions left are not
    enough, so that the person can be moved to the next cohort (a move keeps the old
    enrolment and its marks in history; they do not count in the new cohort)."""
    today = today or timezone.localdate()
    sessions = list(cohort.sessions.order_by("date", "id"))
    enrolments = list(
        cohort.enrolments.filter(active=True)
        .select_related("application__applicant", "application__programme", "applicant")
        .prefetch_related("attendance")
        .annotate(
            last_name=Coalesce("application__applicant__last_name", "applicant__last_name"),
            first_name=Coalesce("application__applicant__first_name", "applicant__first_name"),
        )
        .order_by("last_name", "first_name", "id")
    )
    threshold = cohort.programme.training_threshold
    total = len(sessions)
    still_to_come = sum(1 for s in sessions if s.date > today)
    rows = []
    for enrolment in enrolments:
        marks = {a.session_id: a.present for a in enrolment.attendance.all()}
        attended = [s for s in sessions if marks.get(s.pk)]
        share = Decimal(len(attended)) / Decimal(total) if total else Decimal("0")
        best = Decimal(len(attended) + still_to_come) / Decimal(total) if total else Decimal("0")
        rows.append(
            {
                "enrolment": enrolment,
                # None for a person enrolled without a grant application (`person` is set).
                "application": enrolment.application,
                "person": enrolment.application.applicant
                if enrolment.application_id
                else enrolment.applicant,
                "marks": marks,
                "present": len(attended),
                "hours": sum((s.hours for s in attended), Decimal("0")),
                "share": share,
                "completed": training_completed(attended=len(attended), sessions=total, threshold=threshold),
                "can_still_complete": bool(total) and best >= threshold,
            }
        )
    return sessions, rows


def direct_enrolment(user, pk):
    """An enrolment without a grant application, of a cohort the user may open, with its
    person and cohort; None otherwise (the certificate of training as a service)."""
    return (
        Enrolment.objects.filter(pk=pk, application__isnull=True, cohort__in=cohorts_for(user).values("pk"))
        .select_related("applicant", "cohort__centre", "cohort__programme")
        .first()
    )


def age_bands_of(programme):
    """(key, label) of the age bands a headcount of `programme` is recorded in: its own
    (`Programme.age_bands`), else the default ones."""
    try:
        bounds = facts.clean_age_bands(programme.age_bands) if programme.age_bands else None
    except ValueError:
        bounds = None
    return facts.age_bands(bounds or facts.DEFAULT_AGE_BANDS)


def headcounts_of(cohort):
    """{session id: [headcount rows]} of the cohort's anonymous participants (one query)."""
    rows = {}
    for row in SessionHeadcount.objects.filter(session__cohort=cohort).order_by("session", "sex", "age_band"):
        rows.setdefault(row.session_id, []).append(row)
    return rows


def meetings_for(user):
    """The meetings of the user's centres (and programmes, for a scoped user), with their
    centre and programme: staff who see cohorts."""
    if not user.is_authenticated or not roles.is_staff_member(user):
        return TrainingMeeting.objects.none()
    if not user.has_perm("assessments.view_trainingcohort"):
        return TrainingMeeting.objects.none()
    return (
        TrainingMeeting.objects.filter(programme_scope_q(user), centre_id__in=centre_ids_query(user))
        .select_related("centre", "programme")
        .order_by("-held_on", "-id")
    )


def enrolment_history(application):
    """Every enrolment of the application, the active one first, with its cohort and the
    number of sessions attended there."""
    return (
        Enrolment.objects.filter(application=application)
        .select_related("cohort")
        .annotate(attended=Count("attendance", filter=Q(attendance__present=True)))
        .order_by("-active", "-enrolled_at", "-id")
    )


def sessions_of_cohort(cohort):
    """The number of sessions of `cohort` (an OuterRef to a cohort id), 0 if none: an
    expression to annotate a row with."""
    sessions = (
        TrainingSession.objects.filter(cohort=cohort)
        .order_by()
        .values("cohort")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(sessions, output_field=IntegerField()), Value(0))


def sessions_attended(enrolment):
    """The number of sessions attended in `enrolment` (an OuterRef to an enrolment id),
    0 if none: an expression to annotate a row with."""
    present = (
        Attendance.objects.filter(enrolment=enrolment, present=True)
        .order_by()
        .values("enrolment")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(present, output_field=IntegerField()), Value(0))


def active_enrolment(application):
    """The application's active enrolment with its cohort, or None; the cohort's sessions
    and those attended are counted in the same query (`Enrolment.attendance_counts`)."""
    return application.remembered(
        "active_enrolment",
        lambda: (
            application.enrolments.filter(active=True)
            .select_related("cohort")
            .annotate(
                sessions_count=sessions_of_cohort(OuterRef("cohort")),
                present_count=sessions_attended(OuterRef("pk")),
            )
            .first()
        ),
    )


@workflow.TRAINING_COMPLETED.checked_by
def training_completed_for(application):
    """The approve guard's rule: the application's active enrolment is completed."""
    enrolment = active_enrolment(application)
    return enrolment is not None and enrolment.is_completed()


# ---- assessment ---------------------------------------------------------------------


def current_assessment(application):
    """With its assessor and its scores' criteria. On an application that remembers its
    reads (GrantApplication.remember_reads), also what the workflow rules then score."""
    return application.remembered(
        "current_assessment",
        lambda: (
            application.assessments.filter(is_current=True)
            .select_related("assessor")
            .prefetch_related(
                Prefetch("scores", queryset=AssessmentScore.objects.select_related("criterion"))
            )
            .first()
        ),
    )


def assessment_history(application):
    """All assessments of an application, newest first; the earlier ones stay after a
    return for changes and a second assessment."""
    return (
        Assessment.objects.filter(application=application)
        .select_related("assessor")
        .prefetch_related(Prefetch("scores", queryset=AssessmentScore.objects.select_related("criterion")))
        .order_by("-created_at", "-id")
    )


# ---- follow-up ----------------------------------------------------------------------


def visits_for(user):
    """Visits of the applications the user may open (grants.selectors.applications_for).
    For staff that is their centres' applications, filtered on the joined application
    itself rather than through a second copy of it in a subquery."""
    if user.is_authenticated and roles.is_staff_member(user):
        if not user.has_perm("grants.view_grantapplication"):
            return MonitoringVisit.objects.none()
        return MonitoringVisit.objects.filter(application__centre_id__in=centre_scope(user))
    return MonitoringVisit.objects.filter(application__in=applications_for(user))


def _open_visits(user):
    return (
        visits_for(user)
        .filter(visited_on__isnull=True, closed_on__isnull=True, application__state=State.FOLLOW_UP)
        .select_related("application__applicant", "application__centre", "application__assigned_officer")
        .order_by("due_on", "id")
    )


def due_visits(user, *, within_days=7, today=None):
    """Visits not yet made that are due within `within_days`, overdue ones included."""
    today = today or timezone.localdate()
    return _open_visits(user).filter(due_on__lte=today + datetime.timedelta(days=within_days))


def upcoming_visits(user, *, within_days=7, today=None):
    """Visits due from today to `within_days` ahead."""
    today = today or timezone.localdate()
    return _open_visits(user).filter(
        due_on__gte=today, due_on__lte=today + datetime.timedelta(days=within_days)
    )


def overdue_visits(user, *, today=None):
    today = today or timezone.localdate()
    return _open_visits(user).filter(due_on__lt=today)


# ---- outcome indicators -------------------------------------------------------------


def _ratio(part, whole, places="0.001"):
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _recorded_visits(applications):
    """The visits of `applications` recorded inside their window (assessments.models):
    one recorded too early says nothing about the months it stands for."""
    return MonitoringVisit.objects.filter(
        visit_in_window_q(), application__in=applications.order_by().values("pk")
    )


def _per_business(visits, *, latest):
    """Each business's first (or latest) visit of `visits`, by visit date, then months,
    then id: numbered within the business by a window, the first of each kept."""
    order = ("visited_on", "months", "id")
    return visits.annotate(
        position=Window(
            RowNumber(),
            partition_by=F("application_id"),
            order_by=[F(f).desc() if latest else F(f).asc() for f in order],
        )
    ).filter(position=1)


def _survival_counts(today):
    # A 12-month visit recorded before its window counts as not made (docs/reports.md).
    made, not_made = visit_in_window_q("twelve__"), visit_outside_window_q("twelve__")
    return {
        "survived": Count("pk", filter=made & Q(twelve__operating=True)),
        "closed": Count(
            "pk",
            filter=(made & Q(twelve__operating=False)) | (Q(state=State.DISCONTINUED) & not_made),
        ),
        "awaiting": Count(
            "pk",
            filter=Q(state=State.FOLLOW_UP, twelve__due_on__lte=today) & not_made,
        ),
    }


JOBS_SUMS = {
    "owner": Sum("jobs_owner"),
    "family": Sum("jobs_family"),
    "employees": Sum("jobs_employees"),
    "businesses_visited": Count("pk"),
}


def _with_twelve(applications):
    return applications.order_by().annotate(
        twelve=FilteredRelation("visits", condition=Q(visits__months=SURVIVAL_MONTHS))
    )


def _outcomes(survival, jobs):
    survived, closed = survival["survived"], survival["closed"]
    owner, family, employees = (jobs[k] or 0 for k in ("owner", "family", "employees"))
    return {
        "survived_12m": survived,
        "closed_by_12m": closed,
        "awaiting_12m_visit": survival["awaiting"],
        "survival_rate_12m": _ratio(survived, survived + closed),
        "businesses_visited": jobs["businesses_visited"],
        "jobs_created": owner + family + employees,
        "jobs_owner": owner,
        "jobs_family": family,
        "jobs_employees": employees,
    }


def survival_and_jobs(applications, *, today=None):
    """Survival at 12 months and jobs created (`outcome_indicators`) of the grants in
    `applications`, in two aggregate queries: the 12-month visit joined (one per grant,
    `visit_unique`) and each business's latest recorded visit."""
    today = today or timezone.localdate()
    survival = _with_twelve(applications).aggregate(**_survival_counts(today))
    jobs = _per_business(_recorded_visits(applications), latest=True).aggregate(**JOBS_SUMS)
    return _outcomes(survival, jobs)


# Grouping the window-filtered visits in the ORM groups them before the window picks
# the latest (Django 6.1), so the latest visits are grouped by a query around them.
JOBS_BY_SQL = """
SELECT v.grp, SUM(v.jobs_owner) AS owner, SUM(v.jobs_family) AS family,
       SUM(v.jobs_employees) AS employees, COUNT(v.id) AS businesses_visited
  FROM ({latest}) v
 GROUP BY v.grp
"""


def group_key(group, prefix=""):
    """The expression of a grant's key: `group` is a field path of GrantApplication (e.g.
    "programme_id") or a function of the path's prefix that returns an expression
    (reports.figures.breakdowns: sex, age band, two keys crossed)."""
    return group(prefix) if callable(group) else F(f"{prefix}{group}")


def survival_and_jobs_by(applications, group, keys, *, today=None):
    """`survival_and_jobs` per group of the grants in `applications`: {key: figures}
    for each of `keys`, where a grant's key is `group_key(group)`. The same two queries,
    grouped by the key."""
    today = today or timezone.localdate()
    survival = {
        row.pop("key"): row
        for row in _with_twelve(applications).values(key=group_key(group)).annotate(**_survival_counts(today))
    }
    latest = (
        _per_business(_recorded_visits(applications), latest=True)
        .order_by()
        .values("id", "jobs_owner", "jobs_family", "jobs_employees", grp=group_key(group, "application__"))
    )
    sql, params = latest.query.get_compiler(latest.db).as_sql()
    with connections[latest.db].cursor() as cursor:
        cursor.execute(JOBS_BY_SQL.format(latest=sql), params)
        columns = [c[0] for c in cursor.description]
        jobs = {row[0]: dict(zip(columns[1:], row[1:], strict=True)) for row in cursor.fetchall()}
    no_survival = dict.fromkeys(("survived", "closed", "awaiting"), 0)
    no_jobs = {"owner": None, "family": None, "employees": None, "businesses_visited": 0}
    return {key: _outcomes(survival.get(key, no_survival), jobs.get(key, no_jobs)) for key in keys}


SURVIVAL_JOINED_SQL = """
SELECT q.grp, SUM(r.survived), SUM(r.closed), SUM(r.awaiting)
  FROM ({rows}) r JOIN ({groups}) q ON q.application_id = r.key
 WHERE q.grp IS NOT NULL
 GROUP BY q.grp
"""
JOBS_JOINED_SQL = """
SELECT q.grp, SUM(v.jobs_owner), SUM(v.jobs_family), SUM(v.jobs_employees), COUNT(v.id)
  FROM ({latest}) v JOIN ({groups}) q ON q.application_id = v.grp
 WHERE q.grp IS NOT NULL
 GROUP BY q.grp
"""


def survival_and_jobs_joined(applications, groups, keys, *, today=None):
    """`survival_and_jobs_by` where a grant's key is not one of its fields but comes
    from `groups`, the (sql, params) of a query with columns `application_id` and
    `grp` (a grant it lacks, or whose `grp` is NULL, is left out): the same two
    queries, each figure per grant joined to it and added up per key (used for the
    dashboard's quarters, keyed by each grant's last delivery). {key: figures} for
    each of `keys`."""
    today = today or timezone.localdate()
    db = applications.db
    rows = _with_twelve(applications).values(key=F("pk")).annotate(**_survival_counts(today))
    latest = (
        _per_business(_recorded_visits(applications), latest=True)
        .order_by()
        .values("id", "jobs_owner", "jobs_family", "jobs_employees", grp=F("application_id"))
    )
    groups_sql, groups_params = groups
    with connections[db].cursor() as cursor:
        sql, params = rows.query.get_compiler(db).as_sql()
        cursor.execute(SURVIVAL_JOINED_SQL.format(rows=sql, groups=groups_sql), [*params, *groups_params])
        survival = {
            key: {"survived": int(s), "closed": int(c), "awaiting": int(a)}
            for key, s, c, a in cursor.fetchall()
        }
        sql, params = latest.query.get_compiler(db).as_sql()
        cursor.execute(JOBS_JOINED_SQL.format(latest=sql, groups=groups_sql), [*params, *groups_params])
        jobs = {
            key: {"owner": o, "family": f, "employees": e, "businesses_visited": n}
            for key, o, f, e, n in cursor.fetchall()
        }
    no_survival = dict.fromkeys(("survived", "closed", "awaiting"), 0)
    no_jobs = {"owner": None, "family": None, "employees": None, "businesses_visited": 0}
    return {key: _outcomes(survival.get(key, no_survival), jobs.get(key, no_jobs)) for key in keys}


def revenue_changes(applications):
    """Change in monthly revenue (`outcome_indicators`) of the grants in `applications`,
    in one query: each business's first and latest visit that recorded a revenue."""
    with_revenue = _recorded_visits(applications).filter(monthly_revenue__isnull=False)
    order = ("visited_on", "months", "id")
    business = F("application_id")
    pairs = (
        with_revenue.annotate(
            position=Window(RowNumber(), partition_by=business, order_by=[F(f).desc() for f in order]),
            visits=Window(Count("pk"), partition_by=business),
            first_revenue=Window(
                FirstValue("monthly_revenue"), partition_by=business, order_by=[F(f).asc() for f in order]
            ),
        )
        .filter(position=1, visits__gt=1)
        .values_list("application__programme__currency", "first_revenue", "monthly_revenue")
    )
    by_currency, percents = {}, []
    for currency, before, after in pairs:
        by_currency.setdefault(currency, []).append(after - before)
        if before > 0:
            percents.append((after - before) / before * 100)
    return {
        "revenue_changes": sum(len(v) for v in by_currency.values()),
        "median_revenue_change_pct": Decimal(statistics.median(percents)).quantize(Decimal("0.1"))
        if percents
        else None,
        "median_revenue_change": {
            currency: Decimal(statistics.median(changes)).quantize(Decimal("0.01"))
            for currency, changes in sorted(by_currency.items())
        },
    }


def outcome_indicators(applications, *, today=None):
    """What the monitoring visits say about the grants in `applications` (any queryset of
    GrantApplication, already filtered by permission, programme, centre, period ...).

    - Survival at 12 months: of the businesses whose fate at 12 months is known, the
      share still operating at the 12-month visit. Known means the 12-month visit was
      recorded, or the grant was discontinued (the business closed) before it.
      Businesses whose 12-month visit is due but not made yet are counted apart
      (`awaiting_12m_visit`), not guessed.
    - Jobs created: owner, family members and employees at each business's latest
      recorded visit (a closed business counts the jobs its last visit found, 0).
    - Change in monthly revenue: from the first to the latest visit that recorded a
      revenue (businesses with two such visits). The median is given in percent (the
      programmes use different currencies) and, per currency, in money.

    Counting happens in the database (three queries: `survival_and_jobs`, then
    `revenue_changes`); only the median is taken in Python, over one number per
    business."""
    return {**survival_and_jobs(applications, today=today), **revenue_changes(applications)}


# ---- the programme manager's approvals queue ----------------------------------------


def approvals_ready(user):
    """Applications in training whose training is completed and that have a current
    assessment: the programme manager's queue. The current assessment and the active
    enrolment (each one at most per application, unique constraints) are joined, and
    the enrolment's sessions attended and its cohort's sessions counted once per row;
    the programme's budget left (as the approval guard computes it, grants.ledger)
    comes from two grouped queries run here, not a subquery per row (docs/reports.md).
    `open_duplicate`: a possible duplicate still to decide holds the approval up (the
    rule `no_open_duplicate`, the same query)."""
    money = DecimalField(max_digits=14, decimal_places=2)
    committed = Case(
        *[When(programme_id=pk, then=Value(total)) for pk, total in committed_by_programme().items()],
        default=Value(0),
        output_field=money,
    )
    return (
        applications_for(user)
        .filter(state=State.BUSINESS_TRAINING)
        .alias(
            current=FilteredRelation("assessments", condition=Q(assessments__is_current=True)),
            enrolment=FilteredRelation("enrolments", condition=Q(enrolments__active=True)),
        )
        .filter(current__recommendation__isnull=False, enrolment__isnull=False)
        .annotate(
            sessions_count=sessions_of_cohort(OuterRef("enrolment__cohort_id")),
            present_count=sessions_attended(OuterRef("enrolment__pk")),
            recommendation=F("current__recommendation"),
            weighted_score=F("current__weighted_score"),
            assessment_complete=F("current__complete"),
            assessor_id=F("current__assessor_id"),
            budget_left=F("programme__budget") - committed,
            open_duplicate=Exists(DuplicateFlag.objects.open_about(OuterRef("applicant_id"))),
        )
        .filter(
            training_completed_expression(
                attended="present_count", sessions="sessions_count", threshold="programme__training_threshold"
            )
        )
        .select_related("programme")
        # The page's rows' people and centres by id: joined, they made the query one of
        # seven tables, and PostgreSQL spent longer planning it than running it, and
        # joined them for every candidate before sorting (docs/reports.md).
        .prefetch_related("applicant", "centre")
        .order_by("submitted_at", "id")
    )


def approvals_page(user, number, *, per_page):
    """Page `number` of `approvals_ready` (not counted), read in the queue's order a slice
    of applications in training at a time (the index `application_training_queue`), the
    training rule checked only on each slice, until the page and one row beyond it are
    found. As one query, PostgreSQL underestimates how many pass the rule and checks it
    on every application in training before sorting; the 100,000-application benchmark
    spent most of the page's time there (README "Performance")."""
    queue = approvals_ready(user).prefetch_related(None)
    candidates = (
        applications_for(user)
        .filter(state=State.BUSINESS_TRAINING)
        .order_by("submitted_at", "id")
        .values("pk")
    )
    # Read from the index alone: the bound of the slices.
    total = candidates.count()
    wanted = number * per_page + 1
    rows, start, size = [], 0, 2 * per_page
    while len(rows) < wanted and start < total:
        rows += queue.filter(pk__in=candidates[start : start + size])
        start, size = start + size, size * 2
    rows = rows[(number - 1) * per_page : wanted]
    prefetch_related_objects(rows, "applicant", "centre")
    return UncountedPage(rows[:per_page], number, has_next=len(rows) > per_page)
