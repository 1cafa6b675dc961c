"""The budget report: each programme's (and each of its calls') budget, commitments,
deliveries and what remains."""

from django.db.models import Q, Sum

from applicants import roles
from core.money import ZERO, cents
from grants.models import Call, Commitment, DeliveryLine, Programme
from grants.workflow import State

from .scope import NO_FILTERS, reportable_programmes

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
    EUR) and remaining, in the programme's currency, with the same figures for each of
    its calls (`calls`, each against its budget share). Four queries: the programmes,
    their calls, and two aggregates grouped by call (the open commitments, the delivery
    lines).

    - budget: the programme's budget (a call's: its share);
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
        .values_list("application__call_id")
        .annotate(total=Sum("amount"))
    )
    lines = {
        row["delivery__application__call_id"]: row
        for row in DeliveryLine.objects.filter(delivery__application__programme__in=scope)
        .order_by()
        .values("delivery__application__call_id")
        .annotate(
            delivered=Sum("amount"),
            delivered_eur=Sum("amount_eur"),
            at_cost=Sum("amount", filter=Q(delivery__application__state__in=State.AT_COST)),
        )
    }
    calls = {}
    for call in (
        Call.objects.filter(programme__in=scope)
        .order_by("opens", "id")
        .values("id", "programme_id", "name", "opens", "closes", "budget")
    ):
        spent = lines.get(call["id"], {})
        committed = cents(open_amounts.get(call["id"])) + cents(spent.get("at_cost"))
        budget = cents(call.pop("budget"))
        calls.setdefault(call.pop("programme_id"), []).append(
            {
                **call,
                "budget": budget,
                "committed": committed,
                "delivered": cents(spent.get("delivered")),
                "delivered_eur": cents(spent.get("delivered_eur")),
                "remaining": budget - committed,
            }
        )
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
        own = calls.get(row["id"], [])
        budget = cents(row["budget"])
        committed = sum((call["committed"] for call in own), ZERO)
        rows.append(
            {
                **row,
                "programmes": 1,
                "budget": budget,
                "committed": committed,
                "delivered": sum((call["delivered"] for call in own), ZERO),
                "delivered_eur": sum((call["delivered_eur"] for call in own), ZERO),
                "remaining": budget - committed,
                "calls": own,
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
    """The budget per programme (`results`, docs/api.md, each with its `calls`), per
    country and currency (`by_country`) and per donor and currency (`by_donor`). Four
    queries: the country and donor rows add up the programme rows."""
    programmes = budget_table(budget_programmes(user, filters))
    if roles.uses_public_labels(user):
        for row in programmes:
            row["name"] = str(row["public_name"] or Programme(pk=row["id"]).public_label)
            # A call's name may be the programme's.
            for call in row["calls"]:
                call["name"] = str(Call(pk=call["id"]).public_label)
    for row in programmes:
        del row["public_name"]
    results = sorted(programmes, key=lambda r: (r["name"], r["id"]))
    by_country = sorted(
        budget_rollup(programmes, "country"), key=lambda r: (r["country__name"], r["currency"])
    )
    by_donor = sorted(budget_rollup(programmes, "donor"), key=lambda r: (r["donor"], r["currency"]))
    return {"results": results, "by_country": by_country, "by_donor": by_donor}
