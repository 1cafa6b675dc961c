"""The programme figures (docs/reports.md): supported enterprises, families, people
trained, investment, survival and jobs, in total, by group and by period."""

import dataclasses

from django.db import connections
from django.db.models import Case, Count, F, IntegerField, Max, Q, Sum, Value, When

from applicants.models import Country, IntegrationCentre, TargetGroup
from assessments.models import TRAINING_COMPLETED_SQL, Attendance, Enrolment, TrainingSession
from assessments.selectors import group_key, survival_and_jobs, survival_and_jobs_by, survival_and_jobs_joined
from core.money import ZERO, cents
from grants.models import CooperativeMember, Delivery, DeliveryLine, Programme

from .scope import NO_FILTERS, SUPPORTED_STATES, filtered_applications, supported_of


def _families(supported):
    """Distinct people reached: the applicants of supported grants and the members of
    supported cooperatives (one person, one household). One query: the two lists of
    people, their union counted."""
    members = CooperativeMember.objects.filter(
        application_id__in=supported.order_by().values("pk")
    ).values_list("applicant_id")
    return supported.order_by().values_list("applicant_id").union(members).count()


FAMILIES_BY_SQL = "SELECT u.grp, COUNT(*) FROM ({pairs}) u GROUP BY u.grp"


def _families_by(supported, group):
    """`_families` per group: the union of (key, person) pairs, counted per key (one query)."""
    people = supported.order_by().values(grp=group_key(group), person=F("applicant_id"))
    members = CooperativeMember.objects.filter(application_id__in=supported.order_by().values("pk")).values(
        grp=group_key(group, "application__"), person=F("applicant_id")
    )
    pairs = people.union(members).order_by()
    sql, params = pairs.query.get_compiler(pairs.db).as_sql()
    with connections[pairs.db].cursor() as cursor:
        cursor.execute(FAMILIES_BY_SQL.format(pairs=sql), params)
        return dict(cursor.fetchall())


# Per enrolment of the applications, the sessions attended against all sessions of its
# cohort: two grouped aggregates joined. The ORM joins a subquery only as a correlated
# one, which the database runs again for each enrolment (docs/reports.md has the times).
PEOPLE_TRAINED_SQL = """
SELECT {group}COUNT(DISTINCT a.applicant_id)
  FROM ({applications}) a
  JOIN {enrolment} e ON e.application_id = a.id
  JOIN {programme} p ON p.id = a.programme_id
  JOIN (SELECT cohort_id, COUNT(*) AS sessions, MAX(date) AS finished_on
          FROM {session} GROUP BY cohort_id) s ON s.cohort_id = e.cohort_id
  LEFT JOIN (SELECT enrolment_id, COUNT(*) AS present
               FROM {attendance} WHERE present GROUP BY enrolment_id) t ON t.enrolment_id = e.id
 WHERE {completed}
"""


def _people_trained(apps, filters, group=None, periods=None):
    """Distinct applicants with a completed business-training enrolment: present at a
    share of their cohort's sessions at least the programme's threshold. Compared in
    whole numbers (present × 100 ≥ threshold × 100 × sessions) so that no binary
    fraction decides a boundary case. Dated by the cohort's last session. One query;
    with `group` (a field path of GrantApplication), {key: count} per value of it; with
    `periods` ([(first day, last day)], disjoint), {index of the period: count} by the
    period the cohort's last session falls in."""
    columns = apps.order_by().values("id", "applicant_id", "programme_id")
    connection = connections[columns.db]
    key, key_params = None, []
    if group:
        columns = columns.annotate(grp=group_key(group))
        key = "a.grp"
    elif periods:
        key, key_params = _period_case_sql(connection, "s.finished_on", periods)
    applications, params = columns.query.get_compiler(columns.db).as_sql()
    sql = PEOPLE_TRAINED_SQL.format(
        group=f"{key} AS grp, " if key else "",
        enrolment=Enrolment._meta.db_table,
        programme=Programme._meta.db_table,
        session=TrainingSession._meta.db_table,
        attendance=Attendance._meta.db_table,
        applications=applications,
        completed=TRAINING_COMPLETED_SQL.format(
            attended="COALESCE(t.present, 0)", sessions="s.sessions", threshold="p.training_threshold"
        ),
    )
    params = [*key_params, *params]
    for bound, operator in ((filters.date_from, ">="), (filters.date_to, "<=")):
        if bound:
            sql += f"   AND s.finished_on {operator} %s\n"
            params.append(connection.ops.adapt_datefield_value(bound))
    with connection.cursor() as cursor:
        if key:
            cursor.execute(sql + " GROUP BY 1", params)
            return {k: n for k, n in cursor.fetchall() if k is not None}
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _period_case_sql(connection, column, periods):
    """SQL (and its params) for the index in `periods` of the period `column` (a date)
    falls in, NULL outside them."""
    whens, params = [], []
    for index, (start, end) in enumerate(periods):
        whens.append(f"WHEN {column} >= %s AND {column} <= %s THEN {int(index)}")
        params += [connection.ops.adapt_datefield_value(start), connection.ops.adapt_datefield_value(end)]
    return f"CASE {' '.join(whens)} END", params


def _period_case(field, periods):
    """The ORM's `_period_case_sql`: the index of the period `field` falls in."""
    return Case(
        *(
            When(**{f"{field}__gte": start, f"{field}__lte": end}, then=Value(index))
            for index, (start, end) in enumerate(periods)
        ),
        output_field=IntegerField(),
    )


def _investment_eur(apps, filters, group=None, periods=None):
    """Σ EUR amounts of every delivery line (partial deliveries included), at each
    delivery date's rate as recorded, dated by the delivery. With `group`, {key: Σ};
    with `periods`, {index of the period of the delivery date: Σ}."""
    lines = DeliveryLine.objects.filter(delivery__application__in=apps).filter(
        filters.period_q("delivery__delivered_on")
    )
    if periods:
        rows = (
            lines.order_by()
            .values_list(_period_case("delivery__delivered_on", periods))
            .annotate(total=Sum("amount_eur"))
        )
        return {key: cents(total) for key, total in rows if key is not None}
    if group:
        return {
            key: cents(total)
            for key, total in lines.order_by()
            .values_list(group_key(group, "delivery__application__"))
            .annotate(total=Sum("amount_eur"))
        }
    return cents(lines.aggregate(total=Sum("amount_eur"))["total"])


def impact_figures(user, filters=NO_FILTERS):
    """The programme figures for `user`'s centres, restricted by `filters` (six
    aggregate queries; docs/reports.md). Definitions, each with the date the period applies to:

    - enterprises_supported: applications in equipment_delivered, follow_up, completed
      or discontinued (they reached equipment_delivered); dated by their last delivery,
      the day the last item was handed over.
    - cooperatives_supported: those of them that are cooperatives.
    - institutions_supported: grants to institutions (a prison workshop, a school) in
      the same states, apart from the enterprises and left out of every figure of
      people, survival and jobs (`enterprises`); their equipment is in investment_eur.
    - families_with_non_cash_benefits: distinct people among the applicants of those
      grants and the members of those cooperatives (one person stands for one household).
    - people_trained: distinct applicants who completed business training (attendance
      share ≥ the programme's threshold), whatever became of their application; dated
      by their cohort's last session.
    - investment_eur: Σ EUR amount of every delivery line, partial deliveries and those
      of grants cancelled afterwards included; dated by the delivery.
    - survival_rate_12m and jobs_created: what the monitoring visits say about those
      same enterprises (`assessments.selectors.survival_and_jobs`, as in
      `outcome_indicators`): of the businesses
      whose fate at 12 months is known (12-month visit recorded, or discontinued before
      it), the share operating at the 12-month visit (None while none is known); and
      the jobs (owner, family members, employees) at each one's latest recorded visit.
      Only visits recorded inside their window count (docs/reports.md).
    """
    apps = filtered_applications(user, filters)
    supported = supported_of(apps, filters)
    counts = supported.aggregate(**SUPPORTED_COUNTS)
    return _figures(
        counts,
        _families(enterprises(supported)),
        _people_trained(enterprises(apps), filters),
        _investment_eur(apps, filters),
        survival_and_jobs(enterprises(supported)),
    )


def enterprises(applications):
    """The grants to people and cooperatives: an institution's grant (a prison
    workshop's) is no enterprise, its contact person no family reached, nobody trained
    and no business surviving; it counts as `institutions_supported` only."""
    return applications.filter(institution__isnull=True)


SUPPORTED_COUNTS = {
    "enterprises": Count("pk", filter=Q(institution__isnull=True)),
    "cooperatives": Count("pk", filter=Q(is_cooperative=True)),
    "institutions": Count("pk", filter=Q(institution__isnull=False)),
}
# The field of an application that puts it in a group of a breakdown. Target groups
# overlap (a person may be in two), so they are not a field: see impact_breakdown.
GROUP_FIELDS = {"programme": "programme_id", "centre": "centre_id", "country": "centre__country_id"}


def _figures(counts, families, people_trained, investment_eur, outcomes):
    return {
        "enterprises_supported": counts["enterprises"],
        "cooperatives_supported": counts["cooperatives"],
        "institutions_supported": counts["institutions"],
        "families_with_non_cash_benefits": families,
        "people_trained": people_trained,
        "investment_eur": investment_eur,
        "survival_rate_12m": outcomes["survival_rate_12m"],
        "survived_12m": outcomes["survived_12m"],
        "closed_by_12m": outcomes["closed_by_12m"],
        "assessed_12m": outcomes["survived_12m"] + outcomes["closed_by_12m"],
        "awaiting_12m_visit": outcomes["awaiting_12m_visit"],
        "jobs_created": outcomes["jobs_created"],
        "jobs_owner": outcomes["jobs_owner"],
        "jobs_family": outcomes["jobs_family"],
        "jobs_employees": outcomes["jobs_employees"],
    }


def _group_figures(key, counts, families, trained, investment, outcomes):
    """The figures of one group from the grouped results ({group: value} each; a group
    a figure has no row for has nothing of it)."""
    return _figures(
        counts.get(key, dict.fromkeys(SUPPORTED_COUNTS, 0)),
        families.get(key, 0),
        trained.get(key, 0),
        investment.get(key, ZERO),
        outcomes[key],
    )


def impact_by(user, filters, by):
    """The figures of `impact_figures` per programme, centre or country: {key: figures}
    for each group in which some figure is not nil (a group missing here has only zeros
    and no survival rate: `impact_figures` of an empty selection)."""
    return impact_grouped(user, filters, GROUP_FIELDS[by])


def impact_grouped(user, filters, group):
    """`impact_by` for any key of an application: `group` is a field path of
    GrantApplication or a function of a path prefix returning an expression
    (`assessments.selectors.group_key`). Each figure is one query grouped by the key:
    six queries whatever the number of groups."""
    apps = filtered_applications(user, filters)
    supported = supported_of(apps, filters)
    counts = {
        row.pop("key"): row
        for row in supported.order_by().values(key=group_key(group)).annotate(**SUPPORTED_COUNTS)
    }
    families = _families_by(enterprises(supported), group)
    trained = _people_trained(enterprises(apps), filters, group)
    investment = _investment_eur(apps, filters, group)
    keys = {*counts, *families, *trained, *investment}
    outcomes = survival_and_jobs_by(enterprises(supported), group, keys)
    return {key: _group_figures(key, counts, families, trained, investment, outcomes) for key in keys}


# The grants of `supported` whose last delivery falls in one of the periods, each with
# the index of that period: their deliveries grouped per grant (one pass, no subquery
# per grant). Each figure of the supported grants is computed per grant, joined to
# this and added up per period.
PERIOD_COUNTS_SQL = """
SELECT q.grp, SUM(r.enterprises), SUM(r.cooperatives), SUM(r.institutions)
  FROM ({rows}) r JOIN ({periods}) q ON q.application_id = r.key
 WHERE q.grp IS NOT NULL
 GROUP BY q.grp
"""
PERIOD_FAMILIES_SQL = """
SELECT q.grp, COUNT(DISTINCT r.person)
  FROM ({pairs}) r JOIN ({periods}) q ON q.application_id = r.grp
 WHERE q.grp IS NOT NULL
 GROUP BY q.grp
"""


def _last_delivery_periods(supported, periods):
    """Per grant of `supported` delivered since the first period began: its
    `application_id` and `grp`, the index of the period its last delivery falls in, NULL
    in none (a query to join; the joins leave NULL out). Deliveries before the first
    period cannot change a last delivery that is in one. Not a HAVING on the last
    delivery: PostgreSQL guesses it keeps a few dozen grants, and joined the latest
    visits to them by a nested loop instead of hashing them (docs/reports.md)."""
    return (
        Delivery.objects.filter(application__in=supported.order_by().values("pk"))
        .order_by()
        .filter(delivered_on__gte=periods[0][0])
        .values("application_id")
        .annotate(last_on=Max("delivered_on"))
        .annotate(grp=_period_case("last_on", periods))
        .values("application_id", "grp")
    )


def _sql(queryset):
    return queryset.query.get_compiler(queryset.db).as_sql()


def impact_by_period(user, filters, periods):
    """The figures of `impact_figures` for each period of `periods` (a list of (first
    day, last day), disjoint and in order, e.g. the quarters of the dashboard):
    {(first day, last day): figures}, the same as `impact_figures` with the filters'
    period replaced by that one (the filters' own period is not applied). Each figure
    is dated as its period filter dates it (last delivery, cohort's last session,
    delivery) and the whole span of the periods is queried once per figure, each row
    put in its period: six queries whatever the number of periods."""
    if not periods:
        return {}
    periods = [tuple(p) for p in periods]
    span = dataclasses.replace(filters, date_from=periods[0][0], date_to=periods[-1][1])
    apps = filtered_applications(user, filters)
    supported = apps.filter(state__in=SUPPORTED_STATES)
    last = _sql(_last_delivery_periods(supported, periods))
    with connections[supported.db].cursor() as cursor:
        rows = _sql(supported.order_by().values(key=F("pk")).annotate(**SUPPORTED_COUNTS))
        cursor.execute(PERIOD_COUNTS_SQL.format(rows=rows[0], periods=last[0]), [*rows[1], *last[1]])
        counts = {
            key: {
                "enterprises": int(grants),
                "cooperatives": int(cooperatives),
                "institutions": int(institutions),
            }
            for key, grants, cooperatives, institutions in cursor.fetchall()
        }
        people = enterprises(supported).order_by().values(grp=F("pk"), person=F("applicant_id"))
        members = CooperativeMember.objects.filter(
            application_id__in=supported.order_by().values("pk")
        ).values(grp=F("application_id"), person=F("applicant_id"))
        pairs = _sql(people.union(members).order_by())
        cursor.execute(PERIOD_FAMILIES_SQL.format(pairs=pairs[0], periods=last[0]), [*pairs[1], *last[1]])
        families = dict(cursor.fetchall())
    trained = _people_trained(enterprises(apps), span, periods=periods)
    investment = _investment_eur(apps, span, periods=periods)
    keys = range(len(periods))
    outcomes = survival_and_jobs_joined(enterprises(supported), last, keys)
    return {
        period: _group_figures(key, counts, families, trained, investment, outcomes)
        for key, period in zip(keys, periods, strict=True)
    }


def breakdown_groups(user, filters, by):
    """(key, label) of each programme, centre, country or target group that has
    applications in the user's scope and the filters."""
    if by == "target_group":
        groups = [(value, str(label)) for value, label in TargetGroup.choices]
        if filters.target_group:
            groups = [g for g in groups if g[0] == filters.target_group]
        return groups
    apps = filtered_applications(user, filters)
    # Finance and the auditor read programmes and centres by their public labels, in
    # that order (the names' order would hint at the names).
    if by == "programme":
        rows = Programme.objects.filter(pk__in=apps.values("programme_id"))
        return _labelled(user, rows)
    if by == "centre":
        rows = IntegrationCentre.objects.filter(pk__in=apps.values("centre_id"))
        return _labelled(user, rows)
    rows = Country.objects.filter(pk__in=apps.values("centre__country_id")).order_by("name", "pk")
    return [(c.pk, c.name) for c in rows]


def _labelled(user, places):
    return sorted(((p.pk, str(p.label_for(user))) for p in places), key=lambda pair: (pair[1], pair[0]))


def impact_breakdown(user, filters, by):
    """The figures per programme, centre, country or target group: one row per group
    with `key`, `label` and the figures of `impact_figures` for that group. One query
    for the groups; per programme, centre or country six grouped queries (`impact_by`);
    per target group the figures of each of the three groups (a person in two target
    groups counts in both), eighteen queries. Neither grows with the data or the number
    of groups."""
    groups = breakdown_groups(user, filters, by)
    if by == "target_group":
        grouped = {
            key: impact_figures(user, dataclasses.replace(filters, target_group=key)) for key, _ in groups
        }
    else:
        grouped = impact_by(user, filters, by)
    rows = []
    for key, label in groups:
        figures = grouped.get(key) or impact_figures_of_nothing()
        rows.append({"key": key, "label": label, **figures})
    return rows


def impact_figures_of_nothing():
    """What `impact_figures` says of a selection with nothing in it."""
    return _figures(
        dict.fromkeys(SUPPORTED_COUNTS, 0),
        0,
        0,
        ZERO,
        {
            "survival_rate_12m": None,
            "survived_12m": 0,
            "closed_by_12m": 0,
            "awaiting_12m_visit": 0,
            "jobs_created": 0,
            "jobs_owner": 0,
            "jobs_family": 0,
            "jobs_employees": 0,
        },
    )
