"""The budget report and the programme figures (docs/design.md "Numbers the service must
report"; docs/api.md `reports/budget/` and `reports/impact/`; definitions in docs/reports.md).

Every figure is an aggregate computed by the database over the records the user may
report on: the applications of the centres they are assigned to, and the programmes of
those centres' countries. Nothing is loaded into Python to be filtered or summed; the
few rows that come back are already totals. Money is Decimal, in the programme's
currency unless the name says EUR.

In named parts: `scope` (who reads which figures, the filters), `impact`, `training`
(training without a grant), `breakdowns`
(by sex, age band, ... alone or crossed), `small_groups`
and `budget`. Every name is importable from `reports.figures`."""

from .breakdowns import (
    DIMENSION_LABELS,
    DIMENSIONS,
    breakdown,
    impact_report,
    parse_breakdown,
    protected_report,
)
from .budget import (
    BUDGET_AMOUNTS,
    BUDGET_LEVELS,
    budget_programmes,
    budget_report,
    budget_rollup,
    budget_table,
    contributions_by_programme,
    supplier_variances,
)
from .impact import (
    impact_breakdown,
    impact_by,
    impact_by_period,
    impact_figures,
    impact_figures_of_nothing,
    impact_grouped,
)
from .scope import (
    IMPACT_FIGURES,
    NO_FILTERS,
    SUPPORTED_STATES,
    TARGET_GROUP_FIELDS,
    ReportFilters,
    can_export_lines,
    can_view_reports,
    filtered_applications,
    reportable_applications,
    reportable_programmes,
)
from .small_groups import MIN_GROUP_SIZE, SURVIVAL_FIGURES, sees_small_groups, withhold, withhold_small_groups
from .small_numbers import protect, protected_table, shown_as, threshold
from .training import (
    TRAINING_DIMENSIONS,
    TRAINING_SERVICE_FIGURES,
    protected_training_service,
    training_breakdown,
    training_service_figures,
    training_service_report,
)

BREAKDOWNS = DIMENSIONS

__all__ = [
    "TRAINING_SERVICE_FIGURES",
    "training_service_figures",
    "TRAINING_DIMENSIONS",
    "protected_training_service",
    "training_breakdown",
    "training_service_report",
    "BREAKDOWNS",
    "DIMENSIONS",
    "DIMENSION_LABELS",
    "breakdown",
    "impact_grouped",
    "BUDGET_AMOUNTS",
    "BUDGET_LEVELS",
    "IMPACT_FIGURES",
    "MIN_GROUP_SIZE",
    "NO_FILTERS",
    "SUPPORTED_STATES",
    "SURVIVAL_FIGURES",
    "TARGET_GROUP_FIELDS",
    "ReportFilters",
    "budget_programmes",
    "budget_report",
    "budget_rollup",
    "budget_table",
    "contributions_by_programme",
    "supplier_variances",
    "can_export_lines",
    "can_view_reports",
    "filtered_applications",
    "impact_breakdown",
    "impact_by",
    "impact_by_period",
    "impact_figures",
    "impact_figures_of_nothing",
    "impact_report",
    "parse_breakdown",
    "reportable_applications",
    "reportable_programmes",
    "sees_small_groups",
    "withhold",
    "withhold_small_groups",
    "protect",
    "protected_report",
    "protected_table",
    "shown_as",
    "threshold",
]
