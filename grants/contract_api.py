"""API of the grant contract (docs/api.md, "Grant contract"): its state, its PDF, the
own contribution's payments and reversals, the business's registration. Thin: the
permission checks and rules are in grants.permissions and grants.services.contracts."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotVisible, require

from . import contracts, permissions, selectors, services
from .api import AnyAccept, NoAuditor, get_application
from .models import ContributionPayment, GrantApplication, RuleTiming, max_length
from .models.common import MONEY
from .models.contracts import PERCENT


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContributionPayment
        fields = ["id", "amount", "paid_on", "reference", "reverses", "recorded_at"]


class PaymentCreateSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid_on = serializers.DateField()
    reference = serializers.CharField(max_length=max_length(ContributionPayment, "reference"))


class ReversalSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=max_length(ContributionPayment, "reference"))


class RegistrationSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=max_length(GrantApplication, "business_registration_number"))
    registered_on = serializers.DateField()


# The answer of GET contract/ as contract_json writes it (for the schema only: the
# answer is built below). Money as decimal strings with 2 places.
def _money(**kwargs):
    return serializers.DecimalField(**MONEY, **kwargs)


class IssuedContractSerializer(serializers.Serializer):
    number = serializers.CharField()
    issued_on = serializers.DateField()
    language = serializers.CharField()
    approved_amount = _money()
    signed = serializers.BooleanField()
    signed_received_at = serializers.DateTimeField(allow_null=True, help_text="null until signed")


class ContractPaymentSerializer(PaymentSerializer):
    reversed = serializers.BooleanField(help_text="A later payment reverses this one.")

    class Meta(PaymentSerializer.Meta):
        fields = [*PaymentSerializer.Meta.fields, "reversed"]


class ContributionStateSerializer(serializers.Serializer):
    percent = serializers.DecimalField(
        max_digits=PERCENT["max_digits"], decimal_places=PERCENT["decimal_places"]
    )
    expected = _money()
    paid = _money()
    outstanding = _money()
    due_on = serializers.DateField(allow_null=True)
    payments = ContractPaymentSerializer(many=True)


class RegisteredSerializer(serializers.Serializer):
    number = serializers.CharField(allow_blank=True, help_text='"" until registered')
    registered_on = serializers.DateField(allow_null=True)


class ConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    timing = serializers.ChoiceField(choices=[RuleTiming.BEFORE_PROCUREMENT, RuleTiming.BEFORE_DELIVERY])
    timing_label = serializers.CharField()
    met = serializers.BooleanField()
    message = serializers.CharField()


class ContractStateSerializer(serializers.Serializer):
    contract = IssuedContractSerializer(allow_null=True, help_text="null until the contract is issued")
    contribution = ContributionStateSerializer()
    registration = RegisteredSerializer()
    conditions = ConditionSerializer(many=True, help_text="each condition the programme asks for")
    unmet_before_procurement = serializers.ListField(child=serializers.CharField())
    unmet_before_delivery = serializers.ListField(child=serializers.CharField())


def contract_json(application):
    state = contracts.summary(application)
    contract = state["contract"]
    return {
        "contract": None
        if contract is None
        else {
            "number": contract.number,
            "issued_on": contract.issued_on,
            "language": contract.language,
            "approved_amount": str(contract.approved_amount),
            "signed": contract.is_signed,
            "signed_received_at": contract.signed_received_at if contract.is_signed else None,
        },
        "contribution": {
            "percent": str(state["percent"]),
            "expected": str(state["expected"]),
            "paid": str(state["paid"]),
            "outstanding": str(state["outstanding"]),
            "due_on": state["due_on"],
            "payments": [
                {**PaymentSerializer(row["payment"]).data, "reversed": row["reversed"]}
                for row in state["payments"]
            ],
        },
        "registration": {"number": state["registration_number"], "registered_on": state["registered_on"]},
        "conditions": state["conditions"],
        "unmet_before_procurement": state["unmet_before_procurement"],
        "unmet_before_delivery": state["unmet_before_delivery"],
    }


class ContractDetail(NoAuditor, APIView):
    @extend_schema(responses={200: ContractStateSerializer})
    def get(self, request, pk):
        application = get_application(request.user, pk)
        require(permissions.can_print_contract(request.user, application))
        return Response(contract_json(application))


class ContractPdf(NoAuditor, APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="applications_contract_pdf", responses={(200, "application/pdf"): OpenApiTypes.BINARY}
    )
    def get(self, request, pk):
        application = get_application(request.user, pk)
        contract, content = services.contract_pdf_for(application=application, by=request.user)
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="contract-{contract.number}.pdf"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ContributionListCreate(NoAuditor, APIView):
    @extend_schema(responses={200: PaymentSerializer(many=True)})
    def get(self, request, pk):
        application = get_application(request.user, pk)
        require(permissions.can_print_contract(request.user, application))
        payments = application.contribution_payments.order_by("paid_on", "id")
        return Response(PaymentSerializer(payments, many=True).data)

    @extend_schema(request=PaymentCreateSerializer, responses={201: PaymentSerializer})
    def post(self, request, pk):
        application = get_application(request.user, pk)
        data = PaymentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = services.record_contribution_payment(
            application=application, by=request.user, **data.validated_data
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class ContributionReversal(NoAuditor, APIView):
    @extend_schema(request=ReversalSerializer, responses={201: PaymentSerializer})
    def post(self, request, pk):
        payment = (
            ContributionPayment.objects.filter(
                pk=pk, application__in=selectors.applications_for(request.user)
            )
            .select_related("application")
            .first()
        )
        if payment is None:
            raise NotVisible()
        data = ReversalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reversal = services.reverse_contribution_payment(
            payment=payment, by=request.user, reason=data.validated_data["reason"]
        )
        return Response(PaymentSerializer(reversal).data, status=status.HTTP_201_CREATED)


class Registration(NoAuditor, APIView):
    @extend_schema(request=RegistrationSerializer, responses={200: RegistrationSerializer})
    def put(self, request, pk):
        application = get_application(request.user, pk)
        data = RegistrationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        application = services.record_registration(
            application=application, by=request.user, **data.validated_data
        )
        return Response(
            {
                "number": application.business_registration_number,
                "registered_on": application.business_registered_on,
            }
        )
