"""Figures of fewer than five people, withheld from roles that do not read personal data
and from every export (docs/reports.md, "Small numbers"), by the rule of
`reports.figures.small_numbers`."""

from applicants import roles

from .small_numbers import PRIMARY, TOTAL, protect, threshold

GROUPS = "groups"
# The default of settings.SMALL_NUMBER_THRESHOLD (read through `threshold()`).
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
# Counts of people: a withheld one under the threshold reads "< 5"; any other withheld
# figure (money, a rate, jobs, a count withheld as a complement) is left empty.
PEOPLE_COUNTS = (
    "enterprises_supported",
    "cooperatives_supported",
    "families_with_non_cash_benefits",
    "people_trained",
    "survived_12m",
    "closed_by_12m",
    "assessed_12m",
    "awaiting_12m_visit",
    # Training without a grant (reports.figures.training): registered people and people
    # counted without names, apart and together.
    "people_registered",
    "people_counted",
)


def sees_small_groups(user):
    """Programme managers (and superusers) see every figure exactly on screen and in the
    API: they read the people's records anyway."""
    return user.is_superuser or roles.sees_personal_data(user)


def _size(row, counts):
    return min((row[count] for count in counts if row[count]), default=0)


def _positions(rows, complementary):
    """Each row's place in the table `protect` reads, and whether the table is crossed:
    crossed rows (with two `keys`) by their two keys, the groups of one breakdown as one
    column with its total, lone rows each on their own."""
    if not complementary:
        return [(("row", i), ("alone", i)) for i in range(len(rows))], False
    if rows and len(rows[0].get("keys") or ()) == 2:
        return [tuple(("key", k) for k in row["keys"].values()) for row in rows], True
    # One column of groups (not TOTAL: protect() would then take every cell for a total
    # and, on a tie, hide the whole, which the other reports publish, for a group).
    return [(("group", i), GROUPS) for i in range(len(rows))], False


def _cells(rows, positions, crossed, totals, counts):
    cells = {pos: _size(row, counts) for pos, row in zip(positions, rows, strict=True)}
    if crossed:
        # The margins are the sums of their cells (the report by one group publishes
        # them; their exact distinct counts differ only by people in two groups).
        for first, second in positions:
            cells[(first, TOTAL)] = cells.get((first, TOTAL), 0) + cells[(first, second)]
            cells[(TOTAL, second)] = cells.get((TOTAL, second), 0) + cells[(first, second)]
    if totals is not None:
        cells[_whole(positions)] = _size(totals, counts)
    return cells


def _whole(positions):
    """Where the total of the rows sits: below the column of one breakdown's groups."""
    if positions and positions[0][1] == GROUPS:
        return (TOTAL, GROUPS)
    return (TOTAL, TOTAL)


def withhold(rows, *, totals=None, complementary=False, limit=None, families=WITHHELD_TOGETHER):
    """`rows` of figures (and `totals`, their whole) with the figures of small groups
    withheld (set to None): each row gets `withheld`, the names of its figures withheld,
    and `below_threshold`, those of them that are counts of people under the threshold
    (shown "< 5"). Returns (rows, totals).

    Each family of figures (WITHHELD_TOGETHER) is sized by its counts of people and
    protected by `small_numbers.protect`: `complementary` rows are parts of one whole (a
    breakdown by one group: one column with its total; by two groups, rows with `keys`:
    a table whose margins are its sums), so a lone hidden group takes the next smallest
    with it; otherwise each row stands alone. `families`: other rows' families, in the
    shape of WITHHELD_TOGETHER (the training figures: `training.TRAINING_FAMILIES`)."""
    limit = limit or threshold()
    rows = [{**row, "withheld": [], "below_threshold": []} for row in rows]
    totals = None if totals is None else {**totals, "withheld": [], "below_threshold": []}
    positions, crossed = _positions(rows, complementary)
    placed = dict(zip(positions, rows, strict=True))
    if totals is not None:
        placed[_whole(positions)] = totals
    for counts, figures in families:
        hidden = protect(_cells(rows, positions, crossed, totals, counts), limit)
        for pos, kind in hidden.items():
            row = placed.get(pos)
            if row is None:  # a margin of a crossed table: not shown here
                continue
            row["withheld"] = sorted({*row["withheld"], *figures})
            if kind == PRIMARY:
                below = [f for f in figures if f in PEOPLE_COUNTS and 0 < (row[f] or 0) < limit]
                row["below_threshold"] = sorted({*row["below_threshold"], *below})
    for row in [*rows, *([totals] if totals is not None else [])]:
        for figure in row["withheld"]:
            row[figure] = None
    return rows, totals


def withhold_small_groups(user, rows, *, complementary=False, totals=None, families=WITHHELD_TOGETHER):
    """`rows` of figures as `user` may read them on screen and in the API (`withhold`);
    for those who see small groups, nothing is withheld. With `totals`, returns (rows,
    totals)."""
    if sees_small_groups(user):
        rows = [{**row, "withheld": [], "below_threshold": []} for row in rows]
        shown = None if totals is None else {**totals, "withheld": [], "below_threshold": []}
    else:
        rows, shown = withhold(rows, totals=totals, complementary=complementary, families=families)
    return rows if totals is None else (rows, shown)
