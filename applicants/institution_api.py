"""REST API v1: institutions as grantees (docs/api.md, "Institutions"). Field officers
register them at their centres; officers and managers read those of their centres. An
institution carries no personal sensitive fact: the answer has no key for one."""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from core.errors import NotAllowed

from . import institutions, roles
from .models import Applicant, Institution, IntegrationCentre, Language
from .selectors import centre_ids


def _limit(model, field):
    return model._meta.get_field(field).max_length


class ContactOut(serializers.Serializer):
    id = serializers.IntegerField(help_text="The contact person's applicant record.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    language = serializers.ChoiceField(choices=Language.choices)


class InstitutionOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=Institution.Kind.choices)
    registration_number = serializers.CharField()
    centre = serializers.IntegerField(source="centre_id")
    centre_name = serializers.CharField(source="centre.name")
    address = serializers.CharField()
    municipality = serializers.CharField()
    contact = ContactOut()
    created_at = serializers.DateTimeField()


class InstitutionIn(serializers.Serializer):
    centre = serializers.IntegerField()
    name = serializers.CharField(max_length=_limit(Institution, "name"))
    kind = serializers.ChoiceField(choices=Institution.Kind.choices)
    registration_number = serializers.CharField(
        max_length=_limit(Institution, "registration_number"), required=False, allow_blank=True
    )
    address = serializers.CharField(
        max_length=_limit(Institution, "address"), required=False, allow_blank=True
    )
    municipality = serializers.CharField(
        max_length=_limit(Institution, "municipality"), required=False, allow_blank=True
    )
    contact_first_name = serializers.CharField(max_length=_limit(Applicant, "first_name"))
    contact_last_name = serializers.CharField(max_length=_limit(Applicant, "last_name"))
    contact_date_of_birth = serializers.DateField(
        help_text="The contact person signs the contract and the handover protocol for the institution."
    )
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    contact_language = serializers.ChoiceField(
        choices=Language.choices, required=False, default=Language.SERBIAN_LATIN
    )
    consent_given = serializers.BooleanField(
        help_text="The contact person agreed to the use of their contact data."
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            # Strict: a sensitive fact sent for an institution is refused, never dropped.
            raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return attrs


class InstitutionListCreate(ListAPIView):
    """GET: the institutions of the caller's centres (field officers, programme managers).
    POST: a field officer registers one at one of their centres, with its contact person."""

    serializer_class = InstitutionOut

    def get_queryset(self):
        user = self.request.user
        if roles.is_staff_member(user) and not roles.sees_personal_data(user):
            raise NotAllowed("Your role does not read institutions' contact people.")
        return institutions.institutions_for(user).order_by("name", "id")

    @extend_schema(request=InstitutionIn, responses={201: InstitutionOut})
    def post(self, request):
        user = request.user
        if not roles.has_role(user, roles.FIELD_OFFICER):
            raise NotAllowed("Only field officers register institutions.")
        data = InstitutionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        centre_id = values.pop("centre")
        if centre_id not in centre_ids(user):
            raise serializers.ValidationError({"centre": ["Choose one of your centres."]})
        with transaction.atomic():
            institution = institutions.register_institution(
                by=user, centre=IntegrationCentre.objects.get(pk=centre_id), **values
            )
        return Response(InstitutionOut(institution).data, status=status.HTTP_201_CREATED)
