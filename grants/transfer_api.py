"""API of the transfer of a case (docs/api.md, "Transfer of a case"): a programme
manager moves a person to another centre; a field officer of the receiving centre asks,
the sending centre confirms or declines. Thin: selectors to read, services to write."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants import roles
from applicants.models import IntegrationCentre
from applicants.selectors import applicants_for
from core.errors import NotAllowed, NotVisible, require

from . import permissions, selectors, services
from .models import CaseTransfer


class TransferSerializer(serializers.ModelSerializer):
    """No names: the people who read it know the person by the id they were given."""

    from_centre_name = serializers.CharField(source="from_centre.name", read_only=True)
    to_centre_name = serializers.CharField(source="to_centre.name", read_only=True)
    moved_applications = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="The ids of the open applications that moved with the person (empty until confirmed).",
    )

    class Meta:
        model = CaseTransfer
        fields = [
            "id",
            "applicant",
            "from_centre",
            "from_centre_name",
            "to_centre",
            "to_centre_name",
            "status",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "moved_applications",
        ]
        read_only_fields = fields


class MoveSerializer(serializers.Serializer):
    to_centre = serializers.IntegerField()


class RequestSerializer(MoveSerializer):
    applicant = serializers.IntegerField()
    date_of_birth = serializers.DateField()


def _centre(pk):
    centre = IntegrationCentre.objects.select_related("country").filter(pk=pk).first()
    if centre is None:
        raise serializers.ValidationError({"to_centre": ["No such centre."]})
    return centre


class ApplicantTransfer(APIView):
    @extend_schema(request=MoveSerializer, responses={201: TransferSerializer})
    def post(self, request, pk):
        """A programme manager of the person's centre moves them, with their open
        applications, to `to_centre` (a centre of the same country) at once."""
        applicant = applicants_for(request.user).select_related("centre").filter(pk=pk).first()
        if applicant is None:
            raise NotVisible()
        require(permissions.can_transfer_case(request.user, applicant))
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        transfer = services.transfer_case(
            applicant=applicant, to_centre=_centre(data.validated_data["to_centre"]), by=request.user
        )
        return Response(TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)


class TransferListCreate(ListAPIView):
    serializer_class = TransferSerializer

    def get_queryset(self):
        return selectors.transfers_for(self.request.user)

    def list(self, request, *args, **kwargs):
        """Transfers from or to your centres (field officers and programme managers)."""
        if not (request.user.is_superuser or roles.sees_personal_data(request.user)):
            raise NotAllowed("Your role does not see transfers of cases.")
        return super().list(request, *args, **kwargs)

    @extend_schema(request=RequestSerializer, responses={201: TransferSerializer})
    def post(self, request):
        """A field officer of `to_centre` asks for the person (`applicant`, with their
        `date_of_birth`, as the sending centre gave them) to be moved there; the sending
        centre confirms or declines. A person who does not match: 404."""
        data = RequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        transfer = services.request_transfer(
            applicant_id=values["applicant"],
            date_of_birth=values["date_of_birth"],
            to_centre=_centre(values["to_centre"]),
            by=request.user,
        )
        return Response(TransferSerializer(transfer).data, status=status.HTTP_201_CREATED)


def _transfer(user, pk):
    return get_object_or_404(selectors.transfers_for(user).select_related("applicant"), pk=pk)


class TransferConfirm(APIView):
    @extend_schema(request=None, responses=TransferSerializer)
    def post(self, request, pk):
        """The sending centre agrees: the person and their open applications move."""
        transfer = services.confirm_transfer(transfer=_transfer(request.user, pk), by=request.user)
        return Response(TransferSerializer(transfer).data)


class TransferDecline(APIView):
    @extend_schema(request=None, responses=TransferSerializer)
    def post(self, request, pk):
        """The sending centre keeps the case."""
        transfer = services.decline_transfer(transfer=_transfer(request.user, pk), by=request.user)
        return Response(TransferSerializer(transfer).data)
