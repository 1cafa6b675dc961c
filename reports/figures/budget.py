"""The budget report: each programme's (and each of its calls') budget, commitments,
deliveries and what remains."""

from decimal import Decimal

from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from applicants import roles
from core.money import ZERO, cents
from grants.models import (
    Call,
    Commitment,
    ContributionPayment,
    DeliveryLine,
    GrantContract,
    Programme,
    PurchaseOrder,
    SupplierQuote,
)
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
    "purchase_order_value",
)


def at_approved():
    """A delivery line's quantity at its item's approved unit cost (the SQL form of
    `EquipmentItem.unit_cost_granted` × quantity; exact in cents)."""
    return Sum(
        F("quantity") * Coalesce(F("item__approved_unit_cost"), F("item__unit_cost")),
        output_field=DecimalField(max_digits=20, decimal_places=2),
    )


# Procurement counts, added up like the amounts; the shares are worked out from them.
PROCUREMENT_COUNTS = (
    "quotes",
    "quoted_items",
    "chosen_items",
    "cheapest_items",
    "purchase_orders",
    "approved_purchase_orders",
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
    if filters.regional_programme:
        programmes = programmes.filter(regional_programme_id=filters.regional_programme)
    if filters.donor:
        programmes = programmes.filter(donor=filters.donor)
    if filters.currency:
        programmes = programmes.filter(currency=filters.currency)
    return programmes


def budget_table(programmes):
    """One row per programme of `programmes`: budget, committed, delivered (and in
    EUR) and remaining, in the programme's currency, with the same figures for each of
    its calls (`calls`, each against its budget share), the variance of what was
    delivered against what was approved, and the procurement figures
    (`procurement_figures`). Six queries: the programmes, their calls, two aggregates
    grouped by call (the open commitments, the delivery lines) and two by programme
    (the quotes, the orders).

    - budget: the programme's budget (a call's: its share);
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
            delivered_at_approved=at_approved(),
        )
    }
    buying = procurement_figures(scope)
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
                "delivered_at_approved": cents(spent.get("delivered_at_approved")),
                "variance": cents(spent.get("delivered")) - cents(spent.get("delivered_at_approved")),
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
        "regional_programme",
        "regional_programme__name",
        "regional_programme__public_name",
    ):
        own = calls.get(row["id"], [])
        budget = cents(row["budget"])
        committed = sum((call["committed"] for call in own), ZERO)
        delivered = sum((call["delivered"] for call in own), ZERO)
        at_approved_total = sum((call["delivered_at_approved"] for call in own), ZERO)
        rows.append(
            {
                **row,
                "programmes": 1,
                "budget": budget,
                "committed": committed,
                "delivered": delivered,
                "delivered_eur": sum((call["delivered_eur"] for call in own), ZERO),
                "remaining": budget - committed,
                **buying.get(row["id"], EMPTY_PROCUREMENT),
                "delivered_at_approved": at_approved_total,
                "variance": delivered - at_approved_total,
                "calls": own,
            }
        )
        with_procurement_shares(rows[-1])
    return rows


EMPTY_PROCUREMENT = {**dict.fromkeys(PROCUREMENT_COUNTS, 0), "purchase_order_value": ZERO}


def procurement_figures(scope):
    """Per programme of `scope` (two aggregate queries): quotes and the items quoted,
    the items with a chosen quote and those bought at their cheapest quote (no quote of
    the item is lower), the purchase orders, approved ones and their value."""
    cheaper = SupplierQuote.objects.filter(item=OuterRef("item"), unit_price__lt=OuterRef("unit_price"))
    figures = {}
    for row in (
        SupplierQuote.objects.filter(item__application__programme__in=scope)
        .annotate(dearer=Exists(cheaper))
        .order_by()
        .values("item__application__programme_id")
        .annotate(
            quotes=Count("id"),
            quoted_items=Count("item", distinct=True),
            chosen_items=Count("id", filter=Q(chosen=True)),
            cheapest_items=Count("id", filter=Q(chosen=True, dearer=False)),
        )
    ):
        figures[row.pop("item__application__programme_id")] = {**EMPTY_PROCUREMENT, **row}
    for row in (
        PurchaseOrder.objects.filter(programme__in=scope)
        .order_by()
        .values("programme_id")
        .annotate(
            purchase_orders=Count("id"),
            approved_purchase_orders=Count("id", filter=Q(status=PurchaseOrder.Status.APPROVED)),
            purchase_order_value=Sum("total"),
        )
    ):
        programme = row.pop("programme_id")
        row["purchase_order_value"] = cents(row["purchase_order_value"])
        figures[programme] = {**figures.get(programme, EMPTY_PROCUREMENT), **row}
    return figures


def with_procurement_shares(row):
    """`quotes_per_item` (quotes per item quoted) and `cheapest_share` (of the items
    with a chosen quote, the share bought at the cheapest), None without any."""
    row["quotes_per_item"] = (
        (Decimal(row["quotes"]) / row["quoted_items"]).quantize(Decimal("0.01"))
        if row["quoted_items"]
        else None
    )
    row["cheapest_share"] = (
        (Decimal(row["cheapest_items"]) / row["chosen_items"]).quantize(Decimal("0.001"))
        if row["chosen_items"]
        else None
    )
    return row


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
                **dict.fromkeys(PROCUREMENT_COUNTS, 0),
            },
        )
        total["programmes"] += 1
        for amount in (*BUDGET_AMOUNTS, *PROCUREMENT_COUNTS):
            total[amount] += row[amount]
    return [with_procurement_shares(total) for total in totals.values()]


def budget_report(user, filters=NO_FILTERS):
    """The budget per programme (`results`, docs/api.md, each with its `calls`), per
    country and currency (`by_country`) and per donor and currency (`by_donor`), with the
    procurement figures. Six queries: the country and donor rows add up the programme
    rows."""
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
    return {
        "results": results,
        "by_country": by_country,
        "by_donor": by_donor,
        "by_regional_programme": regional_rollup(programmes, public=roles.uses_public_labels(user)),
    }


def regional_rollup(rows, *, public=False):
    """The programme rows that are parts of a regional programme, per regional
    programme: each part (country) in its own currency, and what was delivered added up
    in EUR, the only sum across currencies. Computed from the programme rows: no query."""
    regional = {}
    for row in rows:
        pk = row["regional_programme"]
        if pk is None:
            continue
        name = row["regional_programme__name"]
        if public:
            name = row["regional_programme__public_name"] or _("Regional programme %(number)s") % {
                "number": pk
            }
        group = regional.setdefault(pk, {"id": pk, "name": name, "parts": [], "delivered_eur": ZERO})
        group["parts"].append(
            {
                key: row[key]
                for key in (
                    "id",
                    "country__code",
                    "country__name",
                    "currency",
                    "budget",
                    "committed",
                    "delivered",
                    "remaining",
                )
            }
        )
        group["delivered_eur"] += row["delivered_eur"]
    for group in regional.values():
        group["parts"].sort(key=lambda part: (part["country__name"], part["id"]))
    return sorted(regional.values(), key=lambda group: (group["name"], group["id"]))


# ---- own contributions ----------------------------------------------------------------


def contributions_by_programme(programme_ids):
    """{programme id: {"contributions_expected", "contributions_received"}}: the own
    contributions the grant contracts issued ask for (grants not cancelled) and the
    payments received less their reversals, in the programme's currency. Two queries."""
    expected = dict(
        GrantContract.objects.filter(application__programme__in=programme_ids)
        .exclude(application__state=State.CANCELLED)
        .order_by()
        .values_list("application__programme_id")
        .annotate(total=Sum("contribution_amount"))
    )
    received = dict(
        ContributionPayment.objects.filter(application__programme__in=programme_ids)
        .order_by()
        .values_list("application__programme_id")
        .annotate(total=Sum("amount"))
    )
    return {
        pk: {
            "contributions_expected": cents(expected.get(pk)),
            "contributions_received": cents(received.get(pk)),
        }
        for pk in programme_ids
    }


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
