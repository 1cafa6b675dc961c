"""Figures of fewer than five people, withheld from roles that do not read personal data."""

from applicants import roles

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
