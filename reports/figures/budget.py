"""The budget report: each programme's budget, commitments, deliveries and what remains."""

from django.db.models import DecimalField, F, Q, Sum
from django.db.models.functions import Coalesce

from applicants import roles
from core.money import ZERO, cents
from grants.models import Commitment, DeliveryLine, Programme
from grants.workflow import State

from .scope import NO_FILTERS, reportable_programmes

# ---- the budget ---------------------------------------------------------------------

BUDGET_AMOUNTS = (
    "budget",
    "committed",
    "delivered",
    "delivered_eur",
    "remaining",
    "delivered_at_approved",
    "variance",
)


def at_approved():
    """A delivery line's quantity at its item's approved unit cost (the SQL form of
    `EquipmentItem.unit_cost_granted` × quantity; exact in cents)."""
    return Sum(
        F("quantity") * Coalesce(F("item__approved_unit_cost"), F("item__unit_cost")),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )


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
    - remaining = budget − committed;
    - delivered_at_approved: the same lines at their items' approved unit costs;
      variance = delivered − delivered_at_approved (negative: cheaper than approved).
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
            delivered_at_approved=at_approved(),
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
                "delivered_at_approved": cents(spent.get("delivered_at_approved")),
                "variance": cents(spent.get("delivered")) - cents(spent.get("delivered_at_approved")),
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


def supplier_variances(user, filters=NO_FILTERS):
    """Delivered against approved per supplier (the supplier as written on each
    delivery) and currency, over the programmes `user` reports on: the delivery lines,
    their approved cost and the variance. One query. Names suppliers: for readers of
    row-level money (scope.can_export_lines)."""
    scope = budget_programmes(user, filters).values("pk")
    rows = (
        DeliveryLine.objects.filter(delivery__application__programme__in=scope)
        .order_by()
        .values("delivery__supplier", "delivery__application__programme__currency")
        .annotate(delivered=Sum("amount"), delivered_at_approved=at_approved())
    )
    results = [
        {
            "supplier": row["delivery__supplier"],
            "currency": row["delivery__application__programme__currency"],
            "delivered": cents(row["delivered"]),
            "delivered_at_approved": cents(row["delivered_at_approved"]),
            "variance": cents(row["delivered"]) - cents(row["delivered_at_approved"]),
        }
        for row in rows
    ]
    return sorted(results, key=lambda r: (r["supplier"].casefold(), r["currency"]))
