"""Small numbers protected: counts under the threshold read "< 5" outside the programme
team, and no hidden count can be worked out from the totals and the cells shown beside
it (secondary suppression). Checked on tables by brute force: every value the hidden
cells could take that agrees with everything shown is a solution, and the hidden small
count must have more than one."""

import csv
import io
import itertools

import pytest
from django.test import override_settings

from reports import figures as reports
from reports.figures.small_numbers import PRIMARY, SECONDARY, TOTAL, protect, protected_table

from .conftest import verified_login
from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db

IMPACT = "/api/v1/reports/impact/"


def table(grid, rows, columns):
    """{(row, column): n} with the row, column and grand totals."""
    cells = {}
    for r, row in zip(rows, grid, strict=True):
        for c, n in zip(columns, row, strict=True):
            cells[(r, c)] = n
        cells[(r, TOTAL)] = sum(row)
    for i, c in enumerate(columns):
        cells[(TOTAL, c)] = sum(row[i] for row in grid)
    cells[(TOTAL, TOTAL)] = sum(map(sum, grid))
    return cells


def possible_values(cells, hidden, position, limit=5, spread=4):
    """The values `position` can take among the solutions for the hidden cells that
    agree with every shown cell and with each row's and column's total, knowing what
    the marks say: a small count ("< 5") is 1 to 4; a complement is any count, searched
    within `spread` of its true value (a wider search only finds more solutions)."""
    hidden = sorted(hidden, key=str)
    small = {p for p in hidden if 0 < cells[p] < limit}
    ranges = [
        range(1, limit) if p in small else range(max(0, cells[p] - spread), cells[p] + spread + 1)
        for p in hidden
    ]
    inner = [(r, c) for r, c in cells if TOTAL not in (r, c)]
    checks = [([p for p in inner if p[0] == r], (r, TOTAL)) for r in {r for r, _c in inner}]
    checks += [([p for p in inner if p[1] == c], (TOTAL, c)) for c in {c for _r, c in inner}]
    checks = [(parts, total) for parts, total in checks if total in cells]
    values = set()
    for guess in itertools.product(*ranges):
        known = {**cells, **dict(zip(hidden, guess, strict=True))}
        if all(sum(known[p] for p in parts) == known[total] for parts, total in checks):
            values.add(known[position])
    return values


class TestTheRule:
    def test_a_lone_small_cell_takes_the_next_smallest_of_its_row_and_column(self):
        cells = table([[2, 9, 14], [8, 11, 20]], ["Kula", "Niš"], ["inmate", "returnee", "other"])
        hidden = protect(cells, 5)
        assert hidden[("Kula", "inmate")] == PRIMARY
        assert hidden[("Kula", "returnee")] == SECONDARY  # the next smallest of its row
        assert hidden[("Niš", "inmate")] == SECONDARY  # of its column
        # No line has a single hidden cell; totals stay shown (they are published).
        lines = {}
        for r, c in cells:
            lines.setdefault(("r", r), []).append((r, c))
            lines.setdefault(("c", c), []).append((r, c))
        assert all(sum(p in hidden for p in line) != 1 for line in lines.values())
        assert not any(TOTAL in p for p in hidden)
        assert len(possible_values(cells, hidden, ("Kula", "inmate"))) > 1

    def test_zero_is_shown_and_a_small_total_is_hidden(self):
        cells = {("a", TOTAL): 0, ("b", TOTAL): 3, (TOTAL, TOTAL): 3}
        hidden = protect(cells, 5)
        assert ("a", TOTAL) not in hidden
        assert hidden[("b", TOTAL)] == hidden[(TOTAL, TOTAL)] == PRIMARY

    def test_in_one_column_the_next_smallest_group_goes_with_a_small_one(self):
        cells = {("a", TOTAL): 9, ("b", TOTAL): 6, ("c", TOTAL): 1, (TOTAL, TOTAL): 16}
        assert protect(cells, 5) == {("c", TOTAL): PRIMARY, ("b", TOTAL): SECONDARY}

    def test_how_hidden_counts_read(self):
        cells = table([[2, 9], [8, 11]], ["x", "y"], ["p", "q"])
        shown = protected_table(cells, 5)
        assert shown[("x", "p")] == "< 5"
        assert {shown[("x", "q")], shown[("y", "p")]} == {None}
        assert shown[(TOTAL, TOTAL)] == 30

    @pytest.mark.parametrize(
        "grid",
        [
            [[1, 0, 7], [0, 6, 9], [5, 5, 12]],
            [[3, 4, 8], [12, 2, 7]],
            [[2, 20], [30, 1]],
            [[4, 0], [0, 9]],
        ],
    )
    def test_no_hidden_small_count_is_determined(self, grid):
        rows = [f"r{i}" for i in range(len(grid))]
        columns = [f"c{i}" for i in range(len(grid[0]))]
        cells = table(grid, rows, columns)
        hidden = protect(cells, 5)
        for position, kind in hidden.items():
            if kind == PRIMARY and TOTAL not in position:
                assert len(possible_values(cells, hidden, position)) > 1, position

    @override_settings(SMALL_NUMBER_THRESHOLD=3)
    def test_the_threshold_is_a_setting(self):
        assert reports.threshold() == 3
        assert reports.shown_as() == "< 3"
        assert protect({("a", TOTAL): 3, ("b", TOTAL): 2, (TOTAL, TOTAL): 5}) == {
            ("b", TOTAL): PRIMARY,
            ("a", TOTAL): SECONDARY,
        }


class TestTheAcceptance:
    """Two former inmates supported in Kula: "< 5" for the auditor and in the exports,
    and nothing else shown lets one work the two out."""

    @pytest.fixture
    def kula(self, world):
        def supported(n, municipality, **groups):
            for _ in range(n):
                person = ApplicantFactory(centre=world.centre, municipality=municipality, **groups)
                world.application(applicant=person, delivered=True)

        supported(2, "Kula", is_returnee=False, is_former_inmate=True)
        supported(9, "Kula", is_returnee=True)
        supported(8, "Niš", is_returnee=False, is_former_inmate=True)
        supported(12, "Niš", is_returnee=True)
        supported(7, "Niš", is_returnee=False, is_socially_disadvantaged=True)
        supported(6, "Kula", is_returnee=False, is_socially_disadvantaged=True)
        return world

    def test_the_auditor_reads_less_than_five_and_cannot_work_it_out(self, kula, api):
        body = api(kula.auditor).get(IMPACT, {"by": "municipality,target_group"}).json()
        cells = {tuple(r["key"]): r for r in body["breakdown"]}
        hidden_cell = cells[("Kula", "former_inmate")]
        assert hidden_cell["enterprises_supported"] is None
        assert "enterprises_supported" in hidden_cell["below_threshold"]
        assert body["min_group_size"] == 5
        # What the auditor can read: the crossed cells shown, and the published margins.
        by_place = {
            r["key"]: r["enterprises_supported"]
            for r in api(kula.auditor).get(IMPACT, {"by": "municipality"}).json()["breakdown"]
        }
        by_group = {
            r["key"]: r["enterprises_supported"]
            for r in api(kula.auditor).get(IMPACT, {"by": "target_group"}).json()["breakdown"]
        }
        published = {}
        for (place, group), row in cells.items():
            if place == "unknown":
                continue
            published[(place, group)] = row["enterprises_supported"]
        for place in ("Kula", "Niš"):
            published[(place, TOTAL)] = by_place[place]
        for group, n in by_group.items():
            published[(TOTAL, group)] = n
        published[(TOTAL, TOTAL)] = body["enterprises_supported"]
        assert by_place["Kula"] == 17 and by_group["former_inmate"] == 10
        hidden = {p for p, n in published.items() if n is None}
        assert len(hidden) >= 2 and not any(TOTAL in p for p in hidden)
        truth = {**published, ("Kula", "former_inmate"): 2}
        for p in hidden - {("Kula", "former_inmate")}:
            truth[p] = next(
                r["enterprises_supported"]
                for r in reports.breakdown(kula.manager, reports.NO_FILTERS, "municipality,target_group")
                if tuple(r["key"]) == p
            )
        assert len(possible_values(truth, hidden, ("Kula", "former_inmate"))) > 1
        # Every other figure of the hidden cells is withheld with them.
        assert (
            hidden_cell["investment_eur"] is None and hidden_cell["families_with_non_cash_benefits"] is None
        )

    def test_the_manager_reads_the_exact_numbers_on_screen(self, kula, api):
        body = api(kula.manager).get(IMPACT, {"by": "municipality,target_group"}).json()
        cells = {tuple(r["key"]): r for r in body["breakdown"]}
        assert cells[("Kula", "former_inmate")]["enterprises_supported"] == 2
        assert body["min_group_size"] is None

    @pytest.mark.parametrize("role", ["manager", "auditor"])
    def test_every_export_shows_less_than_five(self, kula, api, role):
        response = api(getattr(kula, role)).get(f"{IMPACT}export.csv", {"by": "municipality,target_group"})
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        rows = {r["key"]: r for r in csv.DictReader(io.StringIO(text))}
        assert rows["Kula,former_inmate"]["enterprises_supported"] == "< 5"
        assert rows["Kula,former_inmate"]["investment_eur"] == ""
        assert rows["Kula,returnee"]["enterprises_supported"] in ("", "9")
        hidden = [k for k, r in rows.items() if r["enterprises_supported"] in ("", "< 5")]
        assert len(hidden) >= 3  # the small cell and a cell of its row and of its column

    def test_the_dashboard_shows_less_than_five_to_the_auditor(self, kula, client):
        verified_login(client, kula.auditor)
        page = client.get("/dashboard/", {"by": "municipality,target_group"})
        assert page.status_code == 200
        assert "&lt; 5" in page.content.decode()
