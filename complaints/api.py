"""The complaints API: staff read the cases they may read (complaints.permissions), as
the pages do. Additions to /api/v1/ (docs/api.md)."""

from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotVisible, require

from . import permissions, selectors
from .models import Complaint


class ComplaintSerializer(serializers.ModelSerializer):
    centre = serializers.CharField(source="centre.name", default=None)
    owner = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Complaint
        fields = [
            "id",
            "reference",
            "category",
            "channel",
            "status",
            "centre",
            "application",
            "owner",
            "received_at",
            "acknowledge_by",
            "resolve_by",
            "acknowledged_at",
            "resolved_at",
            "escalated_at",
            "overdue",
        ]

    def get_owner(self, obj) -> str | None:
        return obj.owner.username if obj.owner else None

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue()


class ComplaintDetailSerializer(ComplaintSerializer):
    notes = serializers.SerializerMethodField()

    class Meta(ComplaintSerializer.Meta):
        fields = [
            *ComplaintSerializer.Meta.fields,
            "name",
            "email",
            "phone",
            "description",
            "outcome",
            "notes",
        ]

    @extend_schema_field(
        inline_serializer(
            "ComplaintNote",
            {
                "at": serializers.DateTimeField(),
                "author": serializers.CharField(allow_null=True),
                "text": serializers.CharField(),
            },
            many=True,
        )
    )
    def get_notes(self, obj) -> list[dict]:
        return [
            {"at": note.created_at, "author": getattr(note.author, "username", None), "text": note.text}
            for note in obj.notes.select_related("author")
        ]


class ComplaintList(ListAPIView):
    """The complaints the caller may read, newest first."""

    serializer_class = ComplaintSerializer

    def get_queryset(self):
        require(permissions.can_list(self.request.user))
        return selectors.visible_complaints(self.request.user)


class ComplaintDetail(APIView):
    @extend_schema(responses=ComplaintDetailSerializer)
    def get(self, request, pk):
        require(permissions.can_list(request.user))
        complaint = selectors.visible_complaints(request.user).filter(pk=pk).first()
        if complaint is None:
            raise NotVisible()
        return Response(ComplaintDetailSerializer(complaint).data)
