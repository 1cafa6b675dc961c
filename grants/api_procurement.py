"""REST API v1 of procurement (docs/api.md, "Procurement"): suppliers, conflict
declarations, quotes per grant, purchase orders and their PDF. Thin: the procurement
selectors read (filtered by permission in the database), the services write."""

from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core import parsers
from core.errors import NotVisible, ServiceError, require

from . import documents as document_service
from . import procurement_permissions as rules
from . import procurement_selectors as selectors
from . import purchase_order_pdf
from .api import NoAuditor, get_application
from .models import (
    IBAN_LENGTH_LIMIT,
    ConflictDeclaration,
    PurchaseOrder,
    Supplier,
    SupplierQuote,
    max_length,
)
from .services import procurement as services


class SupplierSerializer(serializers.ModelSerializer):
    iban = serializers.CharField(max_length=IBAN_LENGTH_LIMIT)

    class Meta:
        model = Supplier
        fields = ["id", "name", "tax_number", "address", "iban", "status", "vetted_on", "created_at"]
        read_only_fields = ["id", "status", "vetted_on", "created_at"]
        # Uniqueness is the service's to answer (with the field named).
        extra_kwargs = {"tax_number": {"validators": []}}


class VettingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Supplier.Status.choices)


class ConflictSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConflictDeclaration
        fields = ["id", "user", "supplier", "declared_on", "note"]
        read_only_fields = ["id", "user", "supplier", "declared_on"]


class QuoteSerializer(serializers.ModelSerializer):
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)

    class Meta:
        model = SupplierQuote
        fields = [
            "id",
            "item",
            "supplier",
            "supplier_name",
            "unit_price",
            "quoted_on",
            "valid_until",
            "document",
            "chosen",
            "justification",
            "purchase_order",
        ]
        read_only_fields = fields


class QuoteUploadSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    supplier = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    quoted_on = serializers.DateField()
    valid_until = serializers.DateField()
    file = serializers.FileField()


class ChooseSerializer(serializers.Serializer):
    justification = serializers.CharField(
        max_length=max_length(SupplierQuote, "justification"), required=False, allow_blank=True, default=""
    )


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    currency = serializers.CharField(source="programme.currency", read_only=True)
    items = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "programme",
            "application",
            "supplier",
            "supplier_name",
            "status",
            "total",
            "currency",
            "created_at",
            "created_by",
            "procurement_approved_by",
            "procurement_approved_at",
            "finance_approved_by",
            "finance_approved_at",
            "approved_at",
            "items",
        ]
        read_only_fields = fields

    @extend_schema_field(
        inline_serializer(
            "PurchaseOrderItem",
            {
                "item": serializers.IntegerField(),
                "quote": serializers.IntegerField(),
                "unit_price": serializers.DecimalField(max_digits=12, decimal_places=2),
            },
            many=True,
        )
    )
    def get_items(self, obj) -> list:
        return [{"item": q.item_id, "quote": q.pk, "unit_price": str(q.unit_price)} for q in obj.quotes.all()]


class OrderCreateSerializer(serializers.Serializer):
    supplier = serializers.IntegerField()


def _supplier(user, pk):
    require(rules.can_view_suppliers(user))
    return get_object_or_404(Supplier, pk=pk)


@extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("q", str)])
class SupplierListCreate(ListAPIView):
    serializer_class = SupplierSerializer

    def get_queryset(self):
        user = self.request.user
        require(rules.can_view_suppliers(user))
        params = self.request.query_params
        return selectors.suppliers_for(user, status=params.get("status"), q=params.get("q"))

    @extend_schema(request=SupplierSerializer, responses={201: SupplierSerializer})
    def post(self, request):
        data = SupplierSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = services.save_supplier(by=request.user, **data.validated_data)
        return Response(SupplierSerializer(supplier).data, status=status.HTTP_201_CREATED)


class SupplierDetail(APIView):
    @extend_schema(responses=SupplierSerializer)
    def get(self, request, pk):
        return Response(SupplierSerializer(_supplier(request.user, pk)).data)

    @extend_schema(request=SupplierSerializer, responses=SupplierSerializer)
    def patch(self, request, pk):
        supplier = _supplier(request.user, pk)
        data = SupplierSerializer(instance=supplier, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {name: getattr(supplier, name) for name in ("name", "tax_number", "address", "iban")}
        supplier = services.save_supplier(
            by=request.user, supplier=supplier, **{**values, **data.validated_data}
        )
        return Response(SupplierSerializer(supplier).data)


class SupplierVetting(APIView):
    @extend_schema(request=VettingSerializer, responses=SupplierSerializer)
    def post(self, request, pk):
        supplier = _supplier(request.user, pk)
        data = VettingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = services.vet_supplier(
            supplier=supplier, by=request.user, status=data.validated_data["status"]
        )
        return Response(SupplierSerializer(supplier).data)


class SupplierConflict(APIView):
    @extend_schema(request=ConflictSerializer, responses={201: ConflictSerializer})
    def post(self, request, pk):
        supplier = _supplier(request.user, pk)
        data = ConflictSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        declaration = services.declare_conflict(
            by=request.user, supplier=supplier, note=data.validated_data.get("note", "")
        )
        return Response(ConflictSerializer(declaration).data, status=status.HTTP_201_CREATED)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class QuoteListCreate(NoAuditor, ListAPIView):
    """A grant's quotes, cheapest first per item; POST uploads one (multipart). The upload
    manages its own transactions, as the documents endpoint does."""

    serializer_class = QuoteSerializer
    parser_classes = parsers.UPLOAD_BODIES

    def handle_exception(self, exc):
        with transaction.atomic():
            return super().handle_exception(exc)

    def _application(self):
        application = get_application(self.request.user, self.kwargs["pk"])
        require(rules.can_view_procurement(self.request.user, application))
        return application

    def get_queryset(self):
        application = self._application()
        return (
            SupplierQuote.objects.filter(item__application=application)
            .select_related("supplier")
            .order_by("item__position", "item_id", "unit_price", "id")
        )

    @extend_schema(request=QuoteUploadSerializer, responses={201: QuoteSerializer, 413: None, 415: None})
    def post(self, request, pk):
        application = self._application()
        document_service.check_request_size(request.META.get("CONTENT_LENGTH"))
        data = QuoteUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        item = application.items.filter(pk=values["item"]).first()
        supplier = Supplier.objects.filter(pk=values["supplier"]).first()
        if item is None or supplier is None:
            raise ServiceError(
                "Name an item of this grant and a registered supplier.",
                details={"item" if item is None else "supplier": ["Unknown."]},
            )
        item.application = application
        quote = services.add_quote(
            item=item,
            by=request.user,
            supplier=supplier,
            unit_price=values["unit_price"],
            quoted_on=values["quoted_on"],
            valid_until=values["valid_until"],
            uploaded_file=values["file"],
        )
        return Response(QuoteSerializer(quote).data, status=status.HTTP_201_CREATED)


class QuoteChoose(NoAuditor, APIView):
    @extend_schema(request=ChooseSerializer, responses=QuoteSerializer)
    def post(self, request, pk):
        quote = SupplierQuote.objects.select_related("item").filter(pk=pk).first()
        if quote is None:
            raise NotVisible()
        get_application(request.user, quote.item.application_id)
        data = ChooseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        quote = services.choose_quote(quote=quote, by=request.user, **data.validated_data)
        return Response(QuoteSerializer(quote).data)


@extend_schema(parameters=[OpenApiParameter("status", str), OpenApiParameter("application", int)])
class PurchaseOrderList(NoAuditor, ListAPIView):
    serializer_class = PurchaseOrderSerializer

    def get_queryset(self):
        params = self.request.query_params
        status_ = params.get("status") if params.get("status") in PurchaseOrder.Status.values else None
        qs = selectors.purchase_orders_for(self.request.user, status=status_).prefetch_related("quotes")
        if str(params.get("application", "")).isdigit():
            qs = qs.filter(application_id=int(params["application"]))
        return qs


class GrantPurchaseOrderCreate(NoAuditor, APIView):
    @extend_schema(request=OrderCreateSerializer, responses={201: PurchaseOrderSerializer})
    def post(self, request, pk):
        application = get_application(request.user, pk)
        data = OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = _supplier(request.user, data.validated_data["supplier"])
        order = services.create_purchase_order(application=application, supplier=supplier, by=request.user)
        return Response(PurchaseOrderSerializer(order).data, status=status.HTTP_201_CREATED)


def _order(user, pk):
    order = selectors.purchase_orders_for(user).select_related("programme__country").filter(pk=pk).first()
    if order is None:
        raise NotVisible()
    return order


class PurchaseOrderDetail(NoAuditor, APIView):
    @extend_schema(responses=PurchaseOrderSerializer)
    def get(self, request, pk):
        return Response(PurchaseOrderSerializer(_order(request.user, pk)).data)


class PurchaseOrderApprove(NoAuditor, APIView):
    @extend_schema(request=None, responses=PurchaseOrderSerializer)
    def post(self, request, pk):
        order = services.approve_purchase_order(order=_order(request.user, pk), by=request.user)
        return Response(PurchaseOrderSerializer(order).data)


class AnyAccept(BaseContentNegotiation):
    """The PDF answers whatever the client accepts; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class PurchaseOrderPdf(NoAuditor, APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="purchase_orders_pdf", responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk):
        order = _order(request.user, pk)
        content = purchase_order_pdf.purchase_order_for(order=order, by=request.user)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{order.number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response
