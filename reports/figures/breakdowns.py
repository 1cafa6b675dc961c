"""Every figure of the impact report by one group or two crossed (docs/reports.md,
"Breakdowns"): programme, centre, country, target group, sex, age band, disability and
municipality. One module, grouped in the database: a breakdown by one group or two
crossed is six grouped queries (eighteen when a target group is one of them: target
groups overlap, so each is the figures filtered by it), plus one to list the groups."""

import dataclasses
import itertools

from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applicants import facts
from core.errors import ServiceError
from grants.models import Programme

from .impact import breakdown_groups, impact_figures, impact_figures_of_nothing, impact_grouped
from .scope import NO_FILTERS, filtered_applications
from .small_groups import withhold, withhold_small_groups

# In the order the API lists them (`?by=`).
DIMENSIONS = (
    "programme",
    "centre",
    "country",
    "target_group",
    "sex",
    "age_band",
    "disability",
    "municipality",
)
DIMENSION_LABELS = {
    "programme": gettext_lazy("Programme"),
    "centre": gettext_lazy("Centre"),
    "country": gettext_lazy("Country"),
    "target_group": gettext_lazy("Target group"),
    "sex": gettext_lazy("Sex"),
    "age_band": gettext_lazy("Age band"),
    "disability": gettext_lazy("Disability"),
    "municipality": gettext_lazy("Municipality"),
}
# Each key's path from a grant application (the figures add their own prefix).
FIELDS = {"programme": "programme_id", "centre": "centre_id", "country": "centre__country_id"}
CROSS = "|"


def _invalid(message):
    return ServiceError(message, details={"by": [message]})


def parse_breakdown(value):
    """`?by=`: one group or two different ones separated by a comma ("sex",
    "sex,target_group"), returned as given; None without it; ServiceError (400) for
    anything else."""
    if value in (None, ""):
        return None
    names = dimensions_of(value)
    if len(names) > 2 or any(name not in DIMENSIONS for name in names) or len(set(names)) < len(names):
        raise _invalid(
            _("by: one of %(values)s, or two different ones separated by a comma (sex,target_group).")
            % {"values": ", ".join(DIMENSIONS)}
        )
    return ",".join(names)


def dimensions_of(by):
    """The groups of a `by` ("sex,target_group" or a tuple) as a tuple."""
    if isinstance(by, str):
        return tuple(part.strip() for part in by.split(","))
    return tuple(by)


@dataclasses.dataclass(frozen=True)
class Context:
    """What a key depends on beyond the row: the day ages are counted at (the end of
    the period, else today) and the programme's own age bands."""

    reference: object
    bounds: tuple


def context_for(filters, by):
    reference = filters.date_to or timezone.localdate()
    bounds = facts.DEFAULT_AGE_BANDS
    if "age_band" in by and filters.programme:
        own = Programme.objects.filter(pk=filters.programme).values_list("age_bands", flat=True).first()
        if own:
            bounds = facts.clean_age_bands(own)
    return Context(reference=reference, bounds=bounds)


def key_expression(name, context):
    """The function of a path prefix (to a GrantApplication) giving the key of `name`."""
    if name in FIELDS:
        return lambda prefix: F(f"{prefix}{FIELDS[name]}")
    if name == "sex":
        return lambda prefix: facts.sex_expression(f"{prefix}applicant__sex")
    if name == "age_band":
        return lambda prefix: facts.age_band_expression(
            f"{prefix}applicant__date_of_birth", context.reference, context.bounds
        )
    if name == "disability":
        return lambda prefix: facts.disability_expression(f"{prefix}applicant__sensitive__")
    if name == "municipality":
        return lambda prefix: Case(
            When(**{f"{prefix}applicant__municipality": ""}, then=Value(facts.UNKNOWN)),
            default=F(f"{prefix}applicant__municipality"),
            output_field=CharField(),
        )
    raise ValueError(name)


def _crossed(first, second):
    """Two keys as one text key "first|second" (one GROUP BY column for every figure)."""
    return lambda prefix: Concat(
        Cast(first(prefix), CharField()),
        Value(CROSS),
        Cast(second(prefix), CharField()),
        output_field=CharField(),
    )


def groups_of(user, filters, name, context):
    """(key, label) of each group of `name`: the fixed lists (sex, age bands, disability,
    target groups) whole, the others as the applications in scope have them."""
    if name == "sex":
        return facts.sex_groups()
    if name == "age_band":
        return facts.age_bands(context.bounds)
    if name == "disability":
        return [(key, str(label)) for key, label in facts.DISABILITY_LABELS.items()]
    if name == "municipality":
        values = (
            filtered_applications(user, filters)
            .order_by()
            .values_list("applicant__municipality", flat=True)
            .distinct()
        )
        named = sorted({v for v in values if v})
        return [(m, m) for m in named] + [(facts.UNKNOWN, str(_("Not recorded")))]
    return breakdown_groups(user, filters, name)


def _grouped(user, filters, by, context):
    """{key: figures} (a key a tuple when crossed) for the groups with some figure."""
    if "target_group" in by:
        other = [name for name in by if name != "target_group"]
        result = {}
        for group, _label in groups_of(user, filters, "target_group", context):
            narrowed = dataclasses.replace(filters, target_group=group)
            if not other:
                result[group] = impact_figures(user, narrowed)
                continue
            for key, figures in impact_grouped(user, narrowed, key_expression(other[0], context)).items():
                pair = (group, key) if by[0] == "target_group" else (key, group)
                result[pair] = figures
        return result
    if len(by) == 1:
        return impact_grouped(user, filters, key_expression(by[0], context))
    crossed = impact_grouped(
        user, filters, _crossed(key_expression(by[0], context), key_expression(by[1], context))
    )
    return {tuple(key.split(CROSS, 1)): figures for key, figures in crossed.items()}


def breakdown(user, filters, by):
    """The figures by one group or two crossed, exactly (no small group withheld: see
    `reports.figures.small_numbers`). `by`: a tuple of one or two of DIMENSIONS.

    By one group: rows {"key", "label", figures...}, one per group. By two: one row per
    pair of groups with `key` [first, second], `label` "first · second", `keys` and
    `labels` ({group name: key or label}) and the figures. A group's figures count each
    application once by its applicant's facts (a person in two target groups counts in
    both); ages are counted at the end of the period (today without one)."""
    by = dimensions_of(by)
    context = context_for(filters, by)
    lists = [groups_of(user, filters, name, context) for name in by]
    grouped = _grouped(user, filters, by, context)
    if len(by) == 1:
        return [
            {"key": key, "label": label, **(_match(grouped, key) or impact_figures_of_nothing())}
            for key, label in lists[0]
        ]
    rows = []
    for (first, first_label), (second, second_label) in itertools.product(*lists):
        figures = _match(grouped, (first, second)) or impact_figures_of_nothing()
        rows.append(
            {
                "key": [first, second],
                "label": f"{first_label} · {second_label}",
                "keys": {by[0]: first, by[1]: second},
                "labels": {by[0]: first_label, by[1]: second_label},
                **figures,
            }
        )
    return rows


def _match(grouped, key):
    """A group's figures; crossed keys came back as text, so they are compared as text."""
    if key in grouped:
        return grouped[key]
    if isinstance(key, tuple):
        return grouped.get(tuple(str(k) for k in key))
    return None


def impact_report(user, filters=NO_FILTERS, by=None):
    """The figures (`totals`) and, with `by` (one group or two, `parse_breakdown`), the
    `breakdown`, as `user` may read them (small groups withheld: `withhold_small_groups`)."""
    rows = breakdown(user, filters, by) if by else []
    rows, totals = withhold_small_groups(user, rows, complementary=True, totals=impact_figures(user, filters))
    return {"totals": totals, "breakdown": rows}


def protected_report(user, filters=NO_FILTERS, by=None):
    """`impact_report` as it leaves the programme team (exports, the donor report):
    small groups withheld whoever asks (`small_groups.withhold`)."""
    rows = breakdown(user, filters, by) if by else []
    rows, totals = withhold(rows, complementary=True, totals=impact_figures(user, filters))
    return {"totals": totals, "breakdown": rows}
