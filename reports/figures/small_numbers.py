"""Small numbers protected (docs/reports.md, "Small numbers"): in a table of counts with
its totals, a count of fewer than the threshold people is shown as "< 5" (primary
suppression), and so that no hidden count can be worked out from a total and the cells
beside it, the next smallest count of each row or column left with a single hidden cell
is hidden too (secondary suppression), until every row and column has none or at least
two. The same rule serves the auditor's pages, the exports and the donor report."""

from django.conf import settings

TOTAL = "total"
PRIMARY = "primary"
SECONDARY = "secondary"


def threshold():
    """`SMALL_NUMBER_THRESHOLD` (default 5): counts from 1 to one less are hidden."""
    return settings.SMALL_NUMBER_THRESHOLD


def shown_as(limit=None):
    """How a hidden count reads: "< 5"."""
    return f"< {limit or threshold()}"


def protect(cells, limit=None):
    """{position: PRIMARY or SECONDARY} of the counts of `cells` to hide.

    `cells`: {(row, column): count} of one table, its totals included at positions
    whose row or column is TOTAL ((row, TOTAL) the total of a row, (TOTAL, column) of a
    column, (TOTAL, TOTAL) the whole). A 1-D table is one column: {(group, TOTAL): n,
    (TOTAL, TOTAL): whole}. A count from 1 to `limit` - 1 is hidden (0 points at nobody
    and is shown). Then, while some row or column (with its total) has exactly one
    hidden count, the smallest shown non-zero cell of it that is not a total is hidden
    with it, or its total if it has none: a total is published elsewhere (the report by
    one group), so hiding an ordinary cell is what protects."""
    limit = limit or threshold()
    hidden = {pos: PRIMARY for pos, n in cells.items() if n is not None and 0 < n < limit}
    lines = {}
    for row, column in cells:
        lines.setdefault(("row", row), []).append((row, column))
        lines.setdefault(("column", column), []).append((row, column))
    changed = True
    while changed:
        changed = False
        for positions in lines.values():
            if len(positions) < 2 or sum(pos in hidden for pos in positions) != 1:
                continue
            shown = [pos for pos in positions if pos not in hidden and (cells[pos] or 0) > 0]
            inner = [pos for pos in shown if TOTAL not in pos]
            candidates = inner or shown
            if candidates:
                hidden[min(candidates, key=lambda pos: (cells[pos], str(pos)))] = SECONDARY
                changed = True
    return hidden


def protected_table(cells, limit=None):
    """`cells` as a reader outside the programme team sees them: each hidden count
    replaced by "< 5" (primary) or by None (secondary, its size not to be guessed
    from the mark)."""
    limit = limit or threshold()
    hidden = protect(cells, limit)
    return {
        pos: (shown_as(limit) if hidden.get(pos) == PRIMARY else None) if pos in hidden else n
        for pos, n in cells.items()
    }
