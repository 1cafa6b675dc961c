"""Webhook endpoints of the calling service account, and their delivery log."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants import tokens
from core.errors import NotVisible

from . import services
from .models import WebhookDelivery, WebhookEndpoint
from .webhooks import EVENTS


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENTS)))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "consecutive_failures", "disabled_at", "created_at"]
        read_only_fields = ["id", "active", "consecutive_failures", "disabled_at", "created_at"]


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signs every delivery; shown only here.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class RegisterSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENTS)), allow_empty=False)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "audit_event_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "sent_at",
            "payload",
        ]


def _endpoints(user):
    account = tokens.service_account_of(user)
    return WebhookEndpoint.objects.none() if account is None else account.webhooks.all()


class EndpointList(ListAPIView):
    """The caller's webhook endpoints (service accounts only register any)."""

    serializer_class = EndpointSerializer

    def get_queryset(self):
        return _endpoints(self.request.user)

    @extend_schema(request=RegisterSerializer, responses={201: NewEndpointSerializer})
    def post(self, request):
        services.account_of(request.user)  # a person is refused before their body is read
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.register_endpoint(by=request.user, **data.validated_data)
        return Response(NewEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.remove_endpoint(by=request.user, endpoint_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointEnable(APIView):
    @extend_schema(request=None, responses=EndpointSerializer)
    def post(self, request, pk):
        endpoint = services.enable_endpoint(by=request.user, endpoint_id=pk)
        return Response(EndpointSerializer(endpoint).data)


class DeliveryList(ListAPIView):
    """An endpoint's deliveries, newest first: what was sent, how often, what came back."""

    serializer_class = DeliverySerializer

    def get_queryset(self):
        endpoint = _endpoints(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if endpoint is None:
            raise NotVisible
        return endpoint.deliveries.order_by("-created_at")
