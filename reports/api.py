"""REST endpoints of the reports (docs/api.md `reports/impact/`, `reports/budget/`), their
CSV/XLSX exports, the ledger of one application and its handover protocol. Thin: the
figures come from reports.figures, the files from reports.exports and grants.handover."""

import datetime

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import require
from core.money import cents
from grants import handover, ledger, permissions
from grants.api import AnyAccept, NoAuditor, get_application
from grants.models import Currency

from . import exports, indicators, services
from . import figures as reports
from .models import Definition, DonorReport

EXPORT_FORMATS = ("csv", "xlsx")
COUNTRY_PARAMETER = OpenApiParameter(
    "country",
    {"type": "string", "pattern": "^([0-9]+|[A-Za-z]{2})$"},
    description="country id or ISO 3166 code",
)
FILTER_PARAMETERS = [
    OpenApiParameter("programme", int, description="programme id"),
    COUNTRY_PARAMETER,
    OpenApiParameter("centre", int, description="integration centre id"),
    OpenApiParameter("target_group", str, enum=list(reports.TARGET_GROUP_FIELDS)),
    OpenApiParameter("from", OpenApiTypes.DATE, description="first day of the period"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last day of the period"),
    OpenApiParameter("donor", str, description="the programme's donor, exactly"),
    OpenApiParameter("currency", str, enum=list(Currency.values), description="the programme's currency"),
    OpenApiParameter(
        "regional_programme", int, description="regional programme id: its parts in every country"
    ),
]
BUDGET_PARAMETERS = [
    OpenApiParameter("programme", int),
    COUNTRY_PARAMETER,
    OpenApiParameter("donor", str),
    OpenApiParameter("currency", str, enum=list(Currency.values)),
    OpenApiParameter("regional_programme", int),
]
_DIMENSIONS = "|".join(reports.DIMENSIONS)
BY_PARAMETER = OpenApiParameter(
    "by",
    {"type": "string", "pattern": f"^(?:{_DIMENSIONS})(?:,(?:{_DIMENSIONS}))?$"},
    description="add a breakdown: one of " + ", ".join(reports.DIMENSIONS) + ", or two of them crossed, "
    "separated by a comma (sex,target_group)",
)
FORMAT_PARAMETER = OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=list(EXPORT_FORMATS))
SEP_PARAMETER = OpenApiParameter(
    "sep",
    str,
    enum=list(exports.CSV_SEPARATORS),
    description="CSV only: comma and decimal point (the default), or semicolon and decimal comma "
    "(spreadsheets with Serbian or Albanian regional settings)",
)
FILE_RESPONSES = {
    (200, "text/csv"): OpenApiTypes.BINARY,
    (200, exports.XLSX_TYPE): OpenApiTypes.BINARY,
}


def money(value):
    return None if value is None else str(cents(value))


def share(value):
    return None if value is None else str(value)


def figures_json(figures):
    return {
        **figures,
        "investment_eur": money(figures["investment_eur"]),
        "survival_rate_12m": share(figures["survival_rate_12m"]),
    }


def budget_row_json(row, level):
    amounts = {k: money(row[k]) for k in reports.BUDGET_AMOUNTS}
    amounts.update(
        {
            "quotes_per_item": share(row["quotes_per_item"]),
            "cheapest_share": share(row["cheapest_share"]),
            "purchase_orders": row["purchase_orders"],
            "approved_purchase_orders": row["approved_purchase_orders"],
        }
    )
    if level == "programme":
        return {
            "programme": row["id"],
            "programme_name": row["name"],
            "donor": row["donor"],
            "country": row["country__code"],
            "currency": row["currency"],
            **amounts,
            "calls": [
                {
                    "call": call["id"],
                    "call_name": call["name"],
                    "opens": call["opens"].isoformat(),
                    "closes": call["closes"].isoformat(),
                    **{
                        k: money(call[k])
                        for k in ("budget", "committed", "delivered", "delivered_eur", "remaining")
                    },
                }
                for call in row["calls"]
            ],
        }
    if level == "country":
        return {
            "country": row["country__code"],
            "country_name": row["country__name"],
            "currency": row["currency"],
            "programmes": row["programmes"],
            **amounts,
        }
    return {"donor": row["donor"], "currency": row["currency"], "programmes": row["programmes"], **amounts}


class ReportsOnly:
    """grants.view_reports: programme managers, finance officers, auditors."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        require(reports.can_view_reports(request.user))


def export_format(fmt):
    if fmt not in EXPORT_FORMATS:
        raise Http404
    return fmt


def money_field(**kwargs):
    """A money amount as the reports write it: a decimal string with 2 places, possibly
    negative (a variance, an overspent remainder). A new field each time: DRF binds a
    field to one name, and one object reused under five names documented only the last."""
    return serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="decimal string, 2 places", **kwargs
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer"},
            {"type": "string"},
            {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]}},
        ],
        "description": "the group: an id (programme, centre, country) or a word; by two, both",
    }
)
class GroupKeyField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
        "description": "by two: each dimension's group",
    }
)
class GroupKeysField(serializers.JSONField):
    pass


def figures_fields():
    """The programme figures (docs/reports.md); null when withheld for the caller's role."""
    counts = (
        "enterprises_supported",
        "cooperatives_supported",
        "families_with_non_cash_benefits",
        "people_trained",
        "survived_12m",
        "closed_by_12m",
        "assessed_12m",
        "awaiting_12m_visit",
        "jobs_created",
        "jobs_owner",
        "jobs_family",
        "jobs_employees",
    )
    return {
        **{name: serializers.IntegerField(allow_null=True) for name in counts},
        "institutions_supported": serializers.IntegerField(
            help_text="grants to institutions (a prison workshop, a school): not in enterprises_supported; "
            "never withheld (not a count of people)"
        ),
        "investment_eur": money_field(allow_null=True),
        "survival_rate_12m": serializers.DecimalField(
            max_digits=5, decimal_places=4, allow_null=True, help_text="share 0..1, 4 places"
        ),
        "withheld": serializers.ListField(
            child=serializers.CharField(),
            help_text="figures withheld (null) because fewer than `min_group_size` people are behind them "
            "(or with those, so that they cannot be worked out from a total)",
        ),
        "below_threshold": serializers.ListField(
            child=serializers.CharField(),
            help_text="the figures withheld because fewer than `min_group_size` people are behind them",
        ),
    }


@extend_schema_field(
    {"oneOf": [{"type": "integer"}, {"type": "string"}], "description": "a country id, or its ISO 3166 code"}
)
class CountryFilterField(serializers.JSONField):
    pass


FILTERS_SCHEMA = inline_serializer(
    "ReportFilters",
    {
        "programme": serializers.IntegerField(required=False),
        "country": CountryFilterField(required=False),
        "centre": serializers.IntegerField(required=False),
        "target_group": serializers.CharField(required=False),
        "from": serializers.DateField(required=False),
        "to": serializers.DateField(required=False),
        "donor": serializers.CharField(required=False),
        "currency": serializers.CharField(required=False),
        "regional_programme": serializers.IntegerField(required=False),
    },
    help_text="the filters as they were understood and applied",
)
BREAKDOWN_ROW = inline_serializer(
    "ImpactBreakdownRow",
    {
        "key": GroupKeyField(),
        "label": serializers.CharField(),
        "keys": GroupKeysField(required=False),
        "labels": serializers.DictField(child=serializers.CharField(), required=False),
        **figures_fields(),
    },
    many=True,
    required=False,
)


def training_people_fields():
    """The people trained without a grant of one group (or all), null when withheld."""
    return {
        "people_trained": serializers.IntegerField(
            allow_null=True,
            help_text="people_registered + people_counted; null when withheld or with a target_group filter",
        ),
        "people_registered": serializers.IntegerField(
            allow_null=True, help_text="registered people who completed a course without a grant application"
        ),
        "people_counted": serializers.IntegerField(
            allow_null=True,
            help_text="people counted without names, as each cohort's fullest session recorded them; "
            "null with a target_group filter",
        ),
        "withheld": serializers.ListField(child=serializers.CharField()),
        "below_threshold": serializers.ListField(
            child=serializers.CharField(), help_text='withheld counts under the threshold (shown "< 5")'
        ),
    }


def training_rows(name, help_text):
    return inline_serializer(
        name,
        {"key": GroupKeyField(), "label": serializers.CharField(), **training_people_fields()},
        many=True,
        help_text=help_text,
    )


IMPACT_SCHEMA = inline_serializer(
    "ImpactReport",
    {
        **figures_fields(),
        "min_group_size": serializers.IntegerField(
            allow_null=True, help_text="groups smaller than this are withheld; null: nothing is withheld"
        ),
        "filters": FILTERS_SCHEMA,
        "breakdown": BREAKDOWN_ROW,
        "training_service": inline_serializer(
            "TrainingServiceFigures",
            {
                "people_trained": serializers.IntegerField(
                    allow_null=True,
                    help_text="registered people who completed a training without a grant application "
                    "(not in the top-level people_trained); null when withheld",
                ),
                "participants_counted": serializers.IntegerField(
                    allow_null=True,
                    help_text="participants counted without names: per cohort its fullest session, summed "
                    "(the least number of people); null with a target_group filter",
                ),
                "participant_sessions": serializers.IntegerField(allow_null=True),
                "meetings_held": serializers.IntegerField(allow_null=True),
                "business_training_meetings": serializers.IntegerField(allow_null=True),
                "network_meetings": serializers.IntegerField(allow_null=True),
                "meeting_participants": serializers.IntegerField(allow_null=True),
                "withheld": serializers.ListField(child=serializers.CharField()),
                "total": inline_serializer(
                    "TrainingServiceTotal",
                    training_people_fields(),
                    help_text="the people of the breakdowns below, all together",
                ),
                "by_sex": training_rows("TrainingServiceBySex", "people trained without a grant by sex"),
                "by_age_band": training_rows(
                    "TrainingServiceByAgeBand",
                    "by age band (the programme's bands with a programme filter, else the default ones)",
                ),
                "by_centre": training_rows("TrainingServiceByCentre", "by centre (key: the centre's id)"),
                "meetings_by_kind": inline_serializer(
                    "TrainingMeetingsByKind",
                    {
                        "key": serializers.CharField(),
                        "label": serializers.CharField(),
                        "meetings": serializers.IntegerField(allow_null=True),
                        "participants": serializers.IntegerField(allow_null=True),
                    },
                    many=True,
                    help_text="meetings held and their participants per kind; null with a target_group filter",
                ),
            },
        ),
    },
)


def budget_amounts():
    return {
        **{name: money_field() for name in reports.BUDGET_AMOUNTS},
        "quotes_per_item": serializers.DecimalField(max_digits=8, decimal_places=2, allow_null=True),
        "cheapest_share": serializers.DecimalField(max_digits=4, decimal_places=3, allow_null=True),
        "purchase_orders": serializers.IntegerField(),
        "approved_purchase_orders": serializers.IntegerField(),
    }


BUDGET_CALL_ROW = inline_serializer(
    "BudgetCallRow",
    {
        "call": serializers.IntegerField(),
        "call_name": serializers.CharField(),
        "opens": serializers.DateField(),
        "closes": serializers.DateField(),
        **{
            name: money_field() for name in ("budget", "committed", "delivered", "delivered_eur", "remaining")
        },
    },
    many=True,
    help_text="the programme's calls: the same amounts against each call's budget share",
)
BUDGET_ROW = inline_serializer(
    "BudgetRow",
    {
        "programme": serializers.IntegerField(),
        "programme_name": serializers.CharField(),
        "donor": serializers.CharField(),
        "country": serializers.CharField(),
        "currency": serializers.CharField(),
        **budget_amounts(),
        "calls": BUDGET_CALL_ROW,
    },
    many=True,
)
BUDGET_COUNTRY_ROW = inline_serializer(
    "BudgetCountryRow",
    {
        "country": serializers.CharField(),
        "country_name": serializers.CharField(),
        "currency": serializers.CharField(),
        "programmes": serializers.IntegerField(),
        **budget_amounts(),
    },
    many=True,
)
BUDGET_DONOR_ROW = inline_serializer(
    "BudgetDonorRow",
    {
        "donor": serializers.CharField(),
        "currency": serializers.CharField(),
        "programmes": serializers.IntegerField(),
        **budget_amounts(),
    },
    many=True,
)
BUDGET_SUPPLIER_ROW = inline_serializer(
    "BudgetSupplierRow",
    {
        "supplier": serializers.CharField(),
        "currency": serializers.CharField(),
        "delivered": money_field(),
        "delivered_at_approved": money_field(),
        "variance": money_field(),
    },
    many=True,
    required=False,
    help_text="finance officers and programme managers only",
)
BUDGET_SCHEMA = inline_serializer(
    "BudgetReport",
    {
        "count": serializers.IntegerField(),
        "results": BUDGET_ROW,
        "by_country": BUDGET_COUNTRY_ROW,
        "by_donor": BUDGET_DONOR_ROW,
        "by_supplier": BUDGET_SUPPLIER_ROW,
        "filters": FILTERS_SCHEMA,
    },
)


class ImpactReport(ReportsOnly, APIView):
    @extend_schema(parameters=[*FILTER_PARAMETERS, BY_PARAMETER], responses=IMPACT_SCHEMA)
    def get(self, request):
        filters = reports.ReportFilters.from_params(request.query_params)
        by = reports.parse_breakdown(request.query_params.get("by"))
        report = reports.impact_report(request.user, filters, by)
        body = figures_json(report["totals"])
        body["filters"] = filters.as_params()
        body["min_group_size"] = None if reports.sees_small_groups(request.user) else reports.threshold()
        if by:
            body["breakdown"] = [figures_json(row) for row in report["breakdown"]]
        body["training_service"] = reports.training_service_report(request.user, filters)
        return Response(body)


class BudgetReport(ReportsOnly, APIView):
    @extend_schema(parameters=BUDGET_PARAMETERS, responses=BUDGET_SCHEMA)
    def get(self, request):
        filters = reports.ReportFilters.from_params(request.query_params)
        report = reports.budget_report(request.user, filters)
        body = {
            "count": len(report["results"]),
            "results": [budget_row_json(r, "programme") for r in report["results"]],
            "by_country": [budget_row_json(r, "country") for r in report["by_country"]],
            "by_donor": [budget_row_json(r, "donor") for r in report["by_donor"]],
            "filters": filters.as_params(),
        }
        if reports.can_export_lines(request.user):
            # Suppliers are named: finance and managers only, as the line exports.
            body["by_supplier"] = [
                {
                    **row,
                    **{k: money(row[k]) for k in ("delivered", "delivered_at_approved", "variance")},
                }
                for row in reports.supplier_variances(request.user, filters)
            ]
        return Response(body)


class ImpactExport(ReportsOnly, APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="reports_impact_export",
        parameters=[FORMAT_PARAMETER, *FILTER_PARAMETERS, BY_PARAMETER, SEP_PARAMETER],
        responses=FILE_RESPONSES,
    )
    def get(self, request, fmt):
        fmt = export_format(fmt)
        filters = reports.ReportFilters.from_params(request.query_params)
        by = reports.parse_breakdown(request.query_params.get("by"))
        sep = exports.csv_separator(request.query_params.get("sep"))
        return exports.response(
            exports.impact_export(request.user, filters, by), "programme-figures", fmt, sep
        )


class BudgetExport(ReportsOnly, APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="reports_budget_export",
        parameters=[FORMAT_PARAMETER, *BUDGET_PARAMETERS, SEP_PARAMETER],
        responses=FILE_RESPONSES,
    )
    def get(self, request, fmt):
        fmt = export_format(fmt)
        filters = reports.ReportFilters.from_params(request.query_params)
        sep = exports.csv_separator(request.query_params.get("sep"))
        return exports.response(exports.budget_export(request.user, filters), "budget", fmt, sep)


class LedgerExport(ReportsOnly, APIView):
    """Every delivery line of the caller's centres: finance and managers only."""

    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="reports_ledger_export",
        parameters=[FORMAT_PARAMETER, *FILTER_PARAMETERS, SEP_PARAMETER],
        responses=FILE_RESPONSES,
    )
    def get(self, request, fmt):
        fmt = export_format(fmt)
        require(reports.can_export_lines(request.user))
        filters = reports.ReportFilters.from_params(request.query_params)
        sep = exports.csv_separator(request.query_params.get("sep"))
        return exports.response(exports.ledger_export(request.user, filters), "ledger", fmt, sep)


def ledger_json(entry):
    lines = [
        {
            **line,
            "delivered_on": line["delivered_on"].isoformat(),
            "units_per_eur": str(line["units_per_eur"]),
            **{
                k: money(line[k])
                for k in (
                    "estimated_unit_cost",
                    "actual_unit_cost",
                    "amount",
                    "amount_eur",
                    "estimate",
                    "variance",
                )
            },
            "book_value": None if line["book_value"] is None else money(line["book_value"]),
            "proceeds": None if line["proceeds"] is None else money(line["proceeds"]),
            "ownership_passed_on": line["ownership_passed_on"].isoformat()
            if line["ownership_passed_on"]
            else None,
        }
        for line in entry["lines"]
    ]
    commitments = [
        {
            **c,
            "amount": money(c["amount"]),
            "created_at": c["created_at"].isoformat(),
            "released_at": c["released_at"].isoformat() if c["released_at"] else None,
        }
        for c in entry["commitments"]
    ]
    amounts = (
        "approved_amount",
        "committed",
        "delivered",
        "delivered_eur",
        "delivered_at_estimate",
        "variance",
        "still_to_deliver_at_estimate",
        "within_tolerance",
        "ceiling",
    )
    by_supplier = [
        {**row, **{k: money(row[k]) for k in ("delivered", "at_approved", "variance")}}
        for row in entry["by_supplier"]
    ]
    reapprovals = [
        {**r, "limit": money(r["limit"]), "created_at": r["created_at"].isoformat()}
        for r in entry["reapprovals"]
    ]
    return {
        **entry,
        **{k: money(entry[k]) for k in amounts},
        "cost_tolerance": str(entry["cost_tolerance"]),
        "lines": lines,
        "commitments": commitments,
        "by_supplier": by_supplier,
        "reapprovals": reapprovals,
    }


def _texts(*names, **kwargs):
    return {name: serializers.CharField(allow_blank=True, **kwargs) for name in names}


LEDGER_SCHEMA = inline_serializer(
    "ApplicationLedger",
    {
        "application": serializers.IntegerField(),
        "business_name": serializers.CharField(allow_blank=True),
        "state": serializers.CharField(),
        "programme": serializers.IntegerField(),
        "programme_name": serializers.CharField(help_text="as the caller may read it"),
        "currency": serializers.CharField(),
        "approved_amount": money_field(allow_null=True),
        "commitments": inline_serializer(
            "LedgerCommitment",
            {
                "id": serializers.IntegerField(),
                "amount": money_field(),
                "status": serializers.ChoiceField(choices=["active", "released"]),
                "created_at": serializers.DateTimeField(),
                "released_at": serializers.DateTimeField(allow_null=True),
                "release_reason": serializers.CharField(
                    allow_blank=True, help_text='"" for readers who do not see names'
                ),
            },
            many=True,
        ),
        "lines": inline_serializer(
            "LedgerLine",
            {
                "delivery": serializers.IntegerField(),
                "delivered_on": serializers.DateField(),
                **_texts("supplier", "invoice_number", "description"),
                "item": serializers.IntegerField(),
                "quantity": serializers.IntegerField(),
                **{
                    name: money_field()
                    for name in (
                        "estimated_unit_cost",
                        "actual_unit_cost",
                        "amount",
                        "amount_eur",
                        "estimate",
                    )
                },
                "approved_unit_cost": serializers.FloatField(
                    help_text="the unit cost approved, as a JSON number (the other amounts are strings)"
                ),
                "units_per_eur": serializers.DecimalField(max_digits=14, decimal_places=6),
                "variance": money_field(),
                **_texts("serial_number", "asset_tag"),
                "reallocated_from": serializers.IntegerField(allow_null=True),
                "book_value": money_field(allow_null=True),
                "outcome": serializers.CharField(
                    allow_blank=True, help_text='"" while the equipment is in use'
                ),
                "proceeds": money_field(allow_null=True),
                "ownership_passed_on": serializers.DateField(allow_null=True),
            },
            many=True,
        ),
        **{
            name: money_field()
            for name in ("committed", "delivered", "delivered_eur", "delivered_at_estimate", "variance")
        },
        "still_to_deliver_at_estimate": money_field(allow_null=True),
        "by_supplier": inline_serializer(
            "LedgerSupplierRow",
            {
                "supplier": serializers.CharField(allow_blank=True),
                **{name: money_field() for name in ("delivered", "at_approved", "variance")},
            },
            many=True,
        ),
        "cost_tolerance": serializers.DecimalField(
            max_digits=3, decimal_places=2, help_text="share over the approved amount, 2 places"
        ),
        "within_tolerance": money_field(allow_null=True),
        "ceiling": money_field(),
        "reapprovals": inline_serializer(
            "LedgerReapproval",
            {
                "id": serializers.IntegerField(),
                "limit": money_field(),
                "created_at": serializers.DateTimeField(),
                "approved_by": serializers.IntegerField(allow_null=True),
                "reason": serializers.CharField(
                    allow_blank=True, help_text='"" for readers who do not see names'
                ),
            },
            many=True,
        ),
    },
)


class ApplicationLedger(NoAuditor, APIView):
    @extend_schema(responses=LEDGER_SCHEMA)
    def get(self, request, pk):
        application = get_application(request.user, pk)
        require(permissions.can_view_ledger(request.user, application))
        return Response(ledger_json(ledger.application_ledger(application, reader=request.user)))


class HandoverProtocol(NoAuditor, APIView):
    """The protocol of the whole grant: every line delivered so far and what is still due."""

    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="applications_handover_protocol",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk):
        application = get_application(request.user, pk)
        return protocol_response(request, application, f"handover-protocol-{application.pk}")


class DeliveryHandoverProtocol(NoAuditor, APIView):
    """The protocol of one delivery: its lines, signed on that handover."""

    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="applications_delivery_handover_protocol",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk, delivery):
        application = get_application(request.user, pk)
        # A delivery of another grant is not acknowledged.
        delivery = get_object_or_404(application.deliveries, pk=delivery)
        name = f"handover-protocol-{application.pk}-delivery-{delivery.pk}"
        return protocol_response(request, application, name, delivery)


def protocol_response(request, application, name, delivery=None):
    content = handover.protocol_for(application=application, by=request.user, delivery=delivery)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^-?\\d+(?:\\.\\d+)?$"}],
        "nullable": True,
        "description": "a count as a whole number (a string when not whole); EUR as a decimal string with "
        "2 places, a share with 3; null when none (or withheld)",
    }
)
class IndicatorValueField(serializers.JSONField):
    pass


INDICATORS_SCHEMA = inline_serializer(
    "IndicatorProgress",
    {
        "programme": serializers.IntegerField(),
        "min_group_size": serializers.IntegerField(allow_null=True),
        "results": inline_serializer(
            "IndicatorResult",
            {
                "id": serializers.IntegerField(),
                "code": serializers.CharField(),
                "name": inline_serializer(
                    "IndicatorName",
                    {
                        "en": serializers.CharField(),
                        "sr-latn": serializers.CharField(),
                        "sq": serializers.CharField(),
                    },
                ),
                "definition": serializers.ChoiceField(choices=Definition.choices),
                "unit": serializers.ChoiceField(choices=["count", "eur", "share"]),
                "baseline": IndicatorValueField(),
                "progress": inline_serializer(
                    "IndicatorPeriod",
                    {
                        "from": serializers.DateField(),
                        "to": serializers.DateField(),
                        "year": serializers.IntegerField(
                            allow_null=True, help_text="null when the period is not a calendar year"
                        ),
                        "sex": serializers.CharField(allow_blank=True, help_text='"" for everybody'),
                        "target": IndicatorValueField(),
                        "achieved": IndicatorValueField(),
                        "share_of_target": serializers.DecimalField(
                            max_digits=12,
                            decimal_places=3,
                            allow_null=True,
                            help_text="achieved / target, 3 places",
                        ),
                        "withheld": serializers.BooleanField(),
                    },
                    many=True,
                    help_text='one entry per period for everybody (sex ""), and one per sex the year has a '
                    "target for",
                ),
            },
            many=True,
            help_text="per indicator: its name, definition, unit, baseline and progress",
        ),
    },
)


class IndicatorProgress(ReportsOnly, APIView):
    """A programme's indicators: achieved against target per year (docs/api.md)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("programme", int, required=True),
            OpenApiParameter("year", int, description="one year only (default: every year with a target)"),
        ],
        responses=INDICATORS_SCHEMA,
    )
    def get(self, request):
        programme = indicators.programme_in_scope(
            request.user, indicators.parse_programme(request.query_params)
        )
        year = indicators.parse_year(request.query_params)
        periods = [indicators.year_period(year)] if year else None
        rows = indicators.indicator_progress(request.user, programme, periods)
        return Response(
            {
                "programme": programme.pk,
                "min_group_size": None if reports.sees_small_groups(request.user) else reports.MIN_GROUP_SIZE,
                "results": indicators.progress_json(rows),
            }
        )


class DonorReportRequest(serializers.Serializer):
    programme = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    date_from = serializers.DateField(required=False, help_text="with date_to, instead of year")
    date_to = serializers.DateField(required=False)
    language = serializers.ChoiceField(choices=DonorReport.Language.choices, default="en")

    # A year, or both dates, never both (config.schema.AutoSchema): refused are a year
    # with a date, and neither a year nor both dates.
    schema_rules = {
        "not": {
            "anyOf": [
                {"required": ["year"], "anyOf": [{"required": ["date_from"]}, {"required": ["date_to"]}]},
                {"not": {"anyOf": [{"required": ["year"]}, {"required": ["date_from", "date_to"]}]}},
            ]
        }
    }

    def validate(self, data):
        year, date_from, date_to = data.get("year"), data.get("date_from"), data.get("date_to")
        if year and (date_from or date_to):
            raise serializers.ValidationError("Give a year or date_from and date_to, not both.")
        if year:
            data["date_from"], data["date_to"] = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        elif not (date_from and date_to):
            raise serializers.ValidationError("Give a year, or date_from and date_to.")
        return data


def donor_report_json(report, request):
    body = {
        "id": report.pk,
        "programme": report.programme_id,
        "from": report.date_from.isoformat(),
        "to": report.date_to.isoformat(),
        "language": report.language,
        "status": report.status,
        "progress": report.progress,
        "requested_at": report.requested_at.isoformat(),
        "finished_at": report.finished_at.isoformat() if report.finished_at else None,
        "min_group_size": report.min_group_size,
        "files": {},
    }
    if report.status == DonorReport.Status.DONE:
        base = request.build_absolute_uri(reverse("api:donor-report-download"))
        body["files"] = {fmt: f"{base}?report={report.pk}&format={fmt}" for fmt in services.FORMATS}
    return body


DONOR_REPORT_SCHEMA = inline_serializer(
    "DonorReport",
    {
        "id": serializers.IntegerField(),
        "programme": serializers.IntegerField(),
        "from": serializers.DateField(),
        "to": serializers.DateField(),
        "language": serializers.ChoiceField(choices=DonorReport.Language.choices),
        "status": serializers.ChoiceField(choices=DonorReport.Status.choices),
        "progress": serializers.IntegerField(min_value=0, max_value=100, help_text="percent written"),
        "requested_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "min_group_size": serializers.IntegerField(),
        "files": inline_serializer(
            "DonorReportFiles",
            {fmt: serializers.URLField(required=False) for fmt in services.FORMATS},
            help_text="the download address of each format once `status` is done ({} before)",
        ),
    },
)
DONOR_REPORTS_SCHEMA = inline_serializer(
    "DonorReportList",
    {"results": type(DONOR_REPORT_SCHEMA)(many=True)},
    help_text="the latest 50, newest first",
)


class DonorReports(ReportsOnly, APIView):
    """The donor period reports of the caller's programmes; POST asks for one (written in
    the background: poll the list for its `status` and `progress`)."""

    @extend_schema(responses={200: DONOR_REPORTS_SCHEMA})
    def get(self, request):
        listed = services.donor_reports_for(request.user)[:50]
        return Response({"results": [donor_report_json(report, request) for report in listed]})

    @extend_schema(request=DonorReportRequest, responses={201: DONOR_REPORT_SCHEMA})
    def post(self, request):
        serializer = DonorReportRequest(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = services.request_donor_report(
            by=request.user,
            programme_id=data["programme"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            language=data["language"],
        )
        return Response(donor_report_json(report, request), status=201)


class DonorReportDownload(ReportsOnly, APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        parameters=[
            OpenApiParameter("report", int, required=True),
            OpenApiParameter("format", str, enum=list(services.FORMATS)),
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, exports.XLSX_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request):
        raw = str(request.query_params.get("report", ""))
        report = (
            services.donor_report_for(request.user, int(raw)) if raw.isdigit() and int(raw) < 2**31 else None
        )
        if report is None:
            raise Http404
        fmt = request.query_params.get("format", "pdf")
        handle, content_type = services.download_donor_report(report=report, fmt=fmt, by=request.user)
        name = f"donor-report-{report.programme_id}-{report.date_from:%Y%m%d}-{report.date_to:%Y%m%d}.{fmt}"
        return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
