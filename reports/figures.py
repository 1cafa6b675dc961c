"""The budget report and the programme figures (docs/design.md "Numbers the service must
report"; docs/api.md `reports/budget/` and `reports/impact/`; definitions in docs/reports.md).

Every figure is an aggregate computed by the database over the records the user may
report on: the applications of the centres they are assigned to, and the programmes of
those centres' countries. Nothing is loaded into Python to be filtered or summed; the
few rows that come back are already totals. Money is Decimal, in the programme's
currency unless the name says EUR.
"""

import dataclasses
from datetime import date

from django.db import connections
from django.db.models import Case, Count, Exists, F, IntegerField, Max, OuterRef, Q, Sum, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applicants import roles
from applicants.models import Country, IntegrationCentre, TargetGroup
from applicants.selectors import centre_scope
from assessments.models import TRAINING_COMPLETED_SQL, Attendance, Enrolment, TrainingSession
from assessments.selectors import survival_and_jobs, survival_and_jobs_by, survival_and_jobs_joined
from core.decisions import ALLOWED, NOT_VISIBLE, Decision
from core.errors import ServiceError
from core.money import ZERO, cents
from grants import selectors
from grants.models import Commitment, Currency, Delivery, DeliveryLine, GrantApplication, Programme
from grants.workflow import State

SUPPORTED_STATES = frozenset(State.DELIVERED_OR_LATER)
TARGET_GROUP_FIELDS = {
    TargetGroup.RETURNEE.value: "applicant__is_returnee",
    TargetGroup.FORMER_INMATE.value: "applicant__is_former_inmate",
    TargetGroup.SOCIALLY_DISADVANTAGED.value: "applicant__is_socially_disadvantaged",
}
BREAKDOWNS = ("programme", "centre", "country", "target_group")
IMPACT_FIGURES = (
    "enterprises_supported",
    "cooperatives_supported",
    "families_with_non_cash_benefits",
    "people_trained",
    "investment_eur",
    "survival_rate_12m",
    "jobs_created",
)


# ---- who may see reports ------------------------------------------------------------


def can_view_reports(user):
    """Programme managers, finance officers and auditors (grants.view_reports)."""
    if not user.is_authenticated:
        return NOT_VISIBLE
    if not roles.is_staff_member(user) or not user.has_perm("grants.view_reports"):
        return Decision(False, gettext_lazy("Your role does not see programme reports."))
    return ALLOWED


def can_export_lines(user):
    """Row-level money exports name grants and suppliers: finance and managers, not
    auditors (who get aggregates only)."""
    seen = can_view_reports(user)
    if not seen:
        return seen
    if not user.has_perm("grants.view_finance"):
        return Decision(False, gettext_lazy("Your role sees aggregate reports only."))
    return ALLOWED


def reportable_applications(user):
    """Applications of the centres the user is assigned to (their ids, read once per
    request: a short list plans better than the permission subquery)."""
    return GrantApplication.objects.filter(centre_id__in=centre_scope(user))


def reportable_programmes(user):
    """Programmes of the countries of the centres the user is assigned to."""
    return selectors.programmes_for(user)


# ---- filters ------------------------------------------------------------------------


def _invalid(field, message):
    return ServiceError(message, details={field: [message]})


def _id(params, field):
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError:
        raise _invalid(field, _("%(field)s: give an id (a whole number).") % {"field": field}) from None
    if not 0 < value < 2**31:
        raise _invalid(field, _("%(field)s: give an id (a whole number).") % {"field": field})
    return value


def _date(params, field):
    raw = params.get(field)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise _invalid(field, _("%(field)s: give a date as YYYY-MM-DD.") % {"field": field}) from None


@dataclasses.dataclass(frozen=True)
class ReportFilters:
    """What a report is restricted to. `country` is an id or an ISO 3166 code; the
    period [date_from, date_to] is inclusive and each figure says which date it uses."""

    programme: int | None = None
    country: int | str | None = None
    centre: int | None = None
    target_group: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    donor: str | None = None
    currency: str | None = None

    @classmethod
    def from_params(cls, params):
        """From query parameters `programme`, `country`, `centre`, `target_group`,
        `from`, `to`, `donor`, `currency`; bad values raise ServiceError (400)."""
        country = params.get("country")
        if country in (None, ""):
            country = None
        elif str(country).isdigit():
            country = _id(params, "country")
        elif len(str(country)) == 2 and str(country).isalpha():
            country = str(country).upper()
        else:
            raise _invalid("country", _("country: give a country id or its two-letter code."))
        target_group = params.get("target_group") or None
        if target_group is not None and target_group not in TARGET_GROUP_FIELDS:
            raise _invalid(
                "target_group",
                _("target_group: one of %(groups)s.") % {"groups": ", ".join(TARGET_GROUP_FIELDS)},
            )
        currency = params.get("currency") or None
        if currency is not None and currency not in Currency.values:
            raise _invalid(
                "currency", _("currency: one of %(codes)s.") % {"codes": ", ".join(Currency.values)}
            )
        date_from, date_to = _date(params, "from"), _date(params, "to")
        if date_from and date_to and date_from > date_to:
            raise _invalid("from", _("The period starts after it ends."))
        donor = str(params.get("donor") or "").strip()[:200] or None
        return cls(
            programme=_id(params, "programme"),
            country=country,
            centre=_id(params, "centre"),
            target_group=target_group,
            date_from=date_from,
            date_to=date_to,
            donor=donor,
            currency=currency,
        )

    def as_params(self):
        """The filters as they were understood, for the response and the export."""
        values = {
            "programme": self.programme,
            "country": self.country,
            "centre": self.centre,
            "target_group": self.target_group,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "donor": self.donor,
            "currency": self.currency,
        }
        return {k: v for k, v in values.items() if v is not None}

    def country_q(self, prefix=""):
        if self.country is None:
            return Q()
        if isinstance(self.country, int):
            return Q(**{f"{prefix}country_id": self.country})
        return Q(**{f"{prefix}country__code": self.country})

    def period_q(self, field):
        """`field` within the period (a date field or a `__date` transform)."""
        q = Q()
        if self.date_from:
            q &= Q(**{f"{field}__gte": self.date_from})
        if self.date_to:
            q &= Q(**{f"{field}__lte": self.date_to})
        return q


NO_FILTERS = ReportFilters()


def parse_breakdown(value):
    if value in (None, ""):
        return None
    if value not in BREAKDOWNS:
        raise _invalid("by", _("by: one of %(values)s.") % {"values": ", ".join(BREAKDOWNS)})
    return value


# ---- the programme figures ----------------------------------------------------------


def filtered_applications(user, filters):
    """The applications the user reports on, restricted by `filters` (not by period:
    each figure applies the period to its own date)."""
    apps = reportable_applications(user)
    if filters.programme:
        apps = apps.filter(programme_id=filters.programme)
    if filters.centre:
        apps = apps.filter(centre_id=filters.centre)
    if filters.target_group:
        apps = apps.filter(**{TARGET_GROUP_FIELDS[filters.target_group]: True})
    return apps.filter(filters.country_q("centre__"))


def _supported(apps, filters):
    """Applications that reached equipment_delivered (or a later state); with a period,
    those whose last delivery (the day the last item was handed over) falls in it: a
    delivery within the period and none after it."""
    supported = apps.filter(state__in=SUPPORTED_STATES)
    if filters.date_from or filters.date_to:
        deliveries = Delivery.objects.filter(application=OuterRef("pk"))
        supported = supported.filter(Exists(deliveries.filter(filters.period_q("delivered_on"))))
        if filters.date_to:
            supported = supported.exclude(Exists(deliveries.filter(delivered_on__gt=filters.date_to)))
    return supported


def _families(supported):
    """Distinct people reached: the applicants of supported grants and the members of
    supported cooperatives (one person, one household). One query: the two lists of
    people, their union counted."""
    members = GrantApplication.members.through.objects.filter(
        grantapplication_id__in=supported.order_by().values("pk")
    ).values_list("applicant_id")
    return supported.order_by().values_list("applicant_id").union(members).count()


FAMILIES_BY_SQL = "SELECT u.grp, COUNT(*) FROM ({pairs}) u GROUP BY u.grp"


def _families_by(supported, group):
    """`_families` per group: the union of (key, person) pairs, counted per key (one query)."""
    people = supported.order_by().values(grp=F(group), person=F("applicant_id"))
    members = GrantApplication.members.through.objects.filter(
        grantapplication_id__in=supported.order_by().values("pk")
    ).values(grp=F(f"grantapplication__{group}"), person=F("applicant_id"))
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
        columns = columns.annotate(grp=F(group))
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
            .values_list(F(f"delivery__application__{group}"))
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
    """
    apps = filtered_applications(user, filters)
    supported = _supported(apps, filters)
    counts = supported.aggregate(**SUPPORTED_COUNTS)
    return _figures(
        counts,
        _families(supported),
        _people_trained(apps, filters),
        _investment_eur(apps, filters),
        survival_and_jobs(supported),
    )


SUPPORTED_COUNTS = {
    "enterprises": Count("pk"),
    "cooperatives": Count("pk", filter=Q(is_cooperative=True)),
}
# The field of an application that puts it in a group of a breakdown. Target groups
# overlap (a person may be in two), so they are not a field: see impact_breakdown.
GROUP_FIELDS = {"programme": "programme_id", "centre": "centre_id", "country": "centre__country_id"}


def _figures(counts, families, people_trained, investment_eur, outcomes):
    return {
        "enterprises_supported": counts["enterprises"],
        "cooperatives_supported": counts["cooperatives"],
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
    and no survival rate: `impact_figures` of an empty selection). Each figure is one
    query grouped by the group's field of the application: six queries whatever the
    number of groups."""
    group = GROUP_FIELDS[by]
    apps = filtered_applications(user, filters)
    supported = _supported(apps, filters)
    counts = {
        row.pop("key"): row for row in supported.order_by().values(key=F(group)).annotate(**SUPPORTED_COUNTS)
    }
    families = _families_by(supported, group)
    trained = _people_trained(apps, filters, group)
    investment = _investment_eur(apps, filters, group)
    keys = {*counts, *families, *trained, *investment}
    outcomes = survival_and_jobs_by(supported, group, keys)
    return {key: _group_figures(key, counts, families, trained, investment, outcomes) for key in keys}


# The grants of `supported` whose last delivery falls in one of the periods, each with
# the index of that period: their deliveries grouped per grant (one pass, no subquery
# per grant). Each figure of the supported grants is computed per grant, joined to
# this and added up per period.
PERIOD_COUNTS_SQL = """
SELECT q.grp, SUM(r.enterprises), SUM(r.cooperatives)
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
            key: {"enterprises": int(enterprises), "cooperatives": int(cooperatives)}
            for key, enterprises, cooperatives in cursor.fetchall()
        }
        people = supported.order_by().values(grp=F("pk"), person=F("applicant_id"))
        members = GrantApplication.members.through.objects.filter(
            grantapplication_id__in=supported.order_by().values("pk")
        ).values(grp=F("grantapplication_id"), person=F("applicant_id"))
        pairs = _sql(people.union(members).order_by())
        cursor.execute(PERIOD_FAMILIES_SQL.format(pairs=pairs[0], periods=last[0]), [*pairs[1], *last[1]])
        families = dict(cursor.fetchall())
    trained = _people_trained(apps, span, periods=periods)
    investment = _investment_eur(apps, span, periods=periods)
    keys = range(len(periods))
    outcomes = survival_and_jobs_joined(supported, last, keys)
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


# ---- small groups --------------------------------------------------------------------

# Below this many people, a group's figures are withheld from roles that do not see
# personal data (finance, the auditor): "1 enterprise supported, Centre 2, former
# inmates" points at a person (docs/reports.md, "Small groups").
MIN_GROUP_SIZE = 5
SURVIVAL_FIGURES = (
    "survival_rate_12m",
    "survived_12m",
    "closed_by_12m",
    "assessed_12m",
    "awaiting_12m_visit",
)
# (the counts of people that size a family of figures, the figures withheld with it)
WITHHELD_TOGETHER = (
    (
        ("enterprises_supported", "families_with_non_cash_benefits"),
        (
            "enterprises_supported",
            "cooperatives_supported",
            "families_with_non_cash_benefits",
            "investment_eur",
            *SURVIVAL_FIGURES,
            "jobs_created",
            "jobs_owner",
            "jobs_family",
            "jobs_employees",
        ),
    ),
    (("people_trained",), ("people_trained",)),
    (("assessed_12m",), SURVIVAL_FIGURES),
)


def sees_small_groups(user):
    """Programme managers (and superusers) see every figure exactly: they read the
    people's records anyway."""
    return user.is_superuser or roles.sees_personal_data(user)


def _small(row, counts):
    return any(0 < (row[count] or 0) < MIN_GROUP_SIZE for count in counts)


def _size(row, counts):
    return min((row[count] for count in counts if row[count]), default=0)


def withhold_small_groups(user, rows, *, complementary=False):
    """`rows` of figures as `user` may read them: each row with `withheld`, the names of
    its figures withheld (set to None) because a group of fewer than MIN_GROUP_SIZE
    people is behind them; for those who see small groups, nothing is withheld.

    `complementary`: the rows are the groups of one total (a breakdown, quarters), so one
    withheld group could be worked out from the total and the others: the next smallest
    group is withheld with it."""
    rows = [{**row, "withheld": []} for row in rows]
    if sees_small_groups(user):
        return rows
    for counts, figures in WITHHELD_TOGETHER:
        small = [row for row in rows if _small(row, counts)]
        if complementary and len(small) == 1:
            others = [row for row in rows if row not in small and _size(row, counts) > 0]
            if others:
                small.append(min(others, key=lambda row: _size(row, counts)))
        for row in small:
            row["withheld"] = sorted({*row["withheld"], *figures})
    for row in rows:
        for figure in row["withheld"]:
            row[figure] = None
    return rows


def impact_report(user, filters=NO_FILTERS, by=None):
    """The figures (`totals`) and, with `by`, the breakdown, as `user` may read them
    (small groups withheld: `withhold_small_groups`)."""
    (totals,) = withhold_small_groups(user, [impact_figures(user, filters)])
    breakdown = (
        withhold_small_groups(user, impact_breakdown(user, filters, by), complementary=True) if by else []
    )
    return {"totals": totals, "breakdown": breakdown}


# ---- the budget ---------------------------------------------------------------------

BUDGET_AMOUNTS = ("budget", "committed", "delivered", "delivered_eur", "remaining")
BUDGET_LEVELS = {
    # level: (fields that group, fields that describe the group)
    "country": (("country", "currency"), ("country__code", "country__name")),
    "donor": (("donor", "currency"), ()),
}


def budget_programmes(user, filters=NO_FILTERS):
    programmes = reportable_programmes(user).filter(filters.country_q())
    if filters.programme:
        programmes = programmes.filter(pk=filters.programme)
    if filters.donor:
        programmes = programmes.filter(donor=filters.donor)
    if filters.currency:
        programmes = programmes.filter(currency=filters.currency)
    return programmes


def budget_table(programmes):
    """One row per programme of `programmes`: budget, committed, delivered (and in
    EUR) and remaining, in the programme's currency. Three queries: the programmes, and
    two aggregates grouped by programme (the open commitments, the delivery lines).

    - budget: the programme's budget;
    - committed: active commitments of grants still approved, plus the delivered cost
      of settled grants and of grants cancelled after a partial delivery
      (grants.ledger);
    - delivered: Σ quantity × actual unit cost of every delivery line (as stored per
      line, rounded to the cent); delivered_eur the same lines in EUR;
    - remaining = budget − committed.
    """
    scope = programmes.values("pk")
    open_amounts = dict(
        Commitment.objects.still_open()
        .filter(programme__in=scope)
        .order_by()
        .values_list("programme_id")
        .annotate(total=Sum("amount"))
    )
    lines = {
        row["delivery__application__programme_id"]: row
        for row in DeliveryLine.objects.filter(delivery__application__programme__in=scope)
        .order_by()
        .values("delivery__application__programme_id")
        .annotate(
            delivered=Sum("amount"),
            delivered_eur=Sum("amount_eur"),
            at_cost=Sum("amount", filter=Q(delivery__application__state__in=State.AT_COST)),
        )
    }
    rows = []
    for row in programmes.order_by().values(
        "id",
        "name",
        "public_name",
        "donor",
        "currency",
        "country",
        "country__code",
        "country__name",
        "budget",
    ):
        spent = lines.get(row["id"], {})
        committed = cents(open_amounts.get(row["id"])) + cents(spent.get("at_cost"))
        budget = cents(row["budget"])
        rows.append(
            {
                **row,
                "programmes": 1,
                "budget": budget,
                "committed": committed,
                "delivered": cents(spent.get("delivered")),
                "delivered_eur": cents(spent.get("delivered_eur")),
                "remaining": budget - committed,
            }
        )
    return rows


def budget_rollup(rows, level):
    """The programme rows of `budget_table` added up per country and currency, or per
    donor and currency (amounts in different currencies are never added): Decimal sums
    of the programmes' figures, so each group says exactly what its programmes say."""
    group, describe = BUDGET_LEVELS[level]
    totals = {}
    for row in rows:
        key = tuple(row[g] for g in group)
        total = totals.setdefault(
            key,
            {
                **{k: row[k] for k in (*group, *describe)},
                "programmes": 0,
                **dict.fromkeys(BUDGET_AMOUNTS, ZERO),
            },
        )
        total["programmes"] += 1
        for amount in BUDGET_AMOUNTS:
            total[amount] += row[amount]
    return list(totals.values())


def budget_report(user, filters=NO_FILTERS):
    """The budget per programme (`results`, docs/api.md), per country and currency
    (`by_country`) and per donor and currency (`by_donor`). Three queries: the
    country and donor rows add up the programme rows."""
    programmes = budget_table(budget_programmes(user, filters))
    if roles.uses_public_labels(user):
        for row in programmes:
            row["name"] = str(row["public_name"] or Programme(pk=row["id"]).public_label)
    for row in programmes:
        del row["public_name"]
    results = sorted(programmes, key=lambda r: (r["name"], r["id"]))
    by_country = sorted(
        budget_rollup(programmes, "country"), key=lambda r: (r["country__name"], r["currency"])
    )
    by_donor = sorted(budget_rollup(programmes, "donor"), key=lambda r: (r["donor"], r["currency"]))
    return {"results": results, "by_country": by_country, "by_donor": by_donor}
