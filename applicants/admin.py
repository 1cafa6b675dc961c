"""People and places in the admin site.

Staff see only what their permissions allow: lists come from the permission-filtered
selectors, and every object page asks the object permission. Assigning a staff member
to a centre (or removing them) is one action, from the centre's page or the user's,
going through applicants.services so that guardian's permission changes with it.
Applicant records are read-only here (they are written by the registration services,
which validate and audit); their sensitive facts are never shown in the admin.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.admin import AdminUserObjectPermissionsForm, ReinforcedGuardedModelAdmin

from audit import trail
from core.errors import NotAllowed, ServiceError

from . import institutions, roles, service_accounts, services
from .models import (
    Applicant,
    ConsentRecord,
    Country,
    Institution,
    IntegrationCentre,
    ReferralInstitution,
    ReferralPartner,
    ServiceAccount,
    StaffAssignment,
    StaffProfile,
)
from .normalise import InvalidPhone, normalise_phone
from .permissions import can_assign_staff
from .selectors import applicants_for, centre_ids, centres_for, forget_permissions
from .sensitivity import masked

User = get_user_model()
STAFF_ROLE_CODENAMES = [f"role_{role}" for role in roles.STAFF_ROLES]


def may_manage_staff(user, centre=None):
    """Superusers; programme managers with the assignment permissions, at their centres."""
    if user.is_superuser:
        return True
    if not (
        roles.has_role(user, roles.PROGRAMME_MANAGER)
        and user.has_perm("applicants.add_staffassignment")
        and user.has_perm("applicants.delete_staffassignment")
    ):
        return False
    return centre is None or centre.pk in centre_ids(user)


class AssignmentFormSet(forms.BaseInlineFormSet):
    """Refuses a new assignment the admin user may not make (named on the row)."""

    by = None

    def clean(self):
        super().clean()
        for form in self.forms:
            if not form.has_changed() or form.instance.pk or not form.is_valid():
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            user = form.cleaned_data.get("user") or form.instance.user
            centre = form.cleaned_data.get("centre") or form.instance.centre
            decision = can_assign_staff(self.by, user=user, centre=centre)
            if not decision:
                form.add_error(None, str(decision.reason))


class AssignmentInline(admin.TabularInline):
    """Rows are never edited in place: a person starts (add) or stops (delete)."""

    model = StaffAssignment
    formset = AssignmentFormSet
    extra = 0
    readonly_fields = ["assigned_at", "assigned_by"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type("AssignmentFormSetForRequest", (formset,), {"by": request.user})

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.has_perm("applicants.view_staffassignment")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return may_manage_staff(request.user, obj if isinstance(obj, IntegrationCentre) else None)

    def has_delete_permission(self, request, obj=None):
        return may_manage_staff(request.user, obj if isinstance(obj, IntegrationCentre) else None)


class CentreStaffInline(AssignmentInline):
    fk_name = "centre"
    fields = ["user", "assigned_at", "assigned_by"]
    verbose_name = "staff member"
    verbose_name_plural = "staff working for this centre"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = (
                User.objects.filter(
                    is_active=True,
                    groups__permissions__content_type__app_label="applicants",
                    groups__permissions__codename__in=STAFF_ROLE_CODENAMES,
                )
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class UserCentresInline(AssignmentInline):
    fk_name = "user"
    fields = ["centre", "assigned_at", "assigned_by"]
    verbose_name = "centre"
    verbose_name_plural = "centres this person works for"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "centre" and not request.user.is_superuser:
            kwargs["queryset"] = centres_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SavesAssignmentsThroughServices:
    """The inline's rows become services.assign_staff / unassign_staff calls: the
    assignment, guardian's permission and the audit row change together."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not StaffAssignment:
            return super().save_formset(request, form, formset, change)
        new_rows = formset.save(commit=False)
        for row in formset.deleted_objects:
            services.unassign_staff(user=row.user, centre=row.centre, by=request.user)
            forget_permissions(row.user)
            messages.info(request, f"{row.user} no longer works for {row.centre}.")
        for row in new_rows:
            if row.pk is None:
                services.assign_staff(user=row.user, centre=row.centre, by=request.user)
                forget_permissions(row.user)
                messages.info(request, f"{row.user} now works for {row.centre}.")
        forget_permissions(request.user)


class CentreUserPermissionsForm(AdminUserObjectPermissionsForm):
    """Guardian's per-object page may not hand out a centre's access or a role: those
    come from staff assignments and groups, so that they always agree."""

    MANAGED_ELSEWHERE = {"access_centre", *(f"role_{role}" for role in roles.ALL_ROLES)}

    def get_obj_perms_field_choices(self):
        return [c for c in super().get_obj_perms_field_choices() if c[0] not in self.MANAGED_ELSEWHERE]


@admin.register(IntegrationCentre)
class IntegrationCentreAdmin(SavesAssignmentsThroughServices, ReinforcedGuardedModelAdmin):
    list_display = ["name", "public_label", "kind", "country", "municipality"]
    list_filter = ["kind", ("country", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "municipality"]
    inlines = [CentreStaffInline]

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request).select_related("country")
        return centres_for(request.user).select_related("country")

    def get_obj_perms_manage_user_form(self, request):
        return CentreUserPermissionsForm

    def get_readonly_fields(self, request, obj=None):
        if request.user.has_perm("applicants.change_integrationcentre"):
            return []
        return ["country", "name", "kind", "municipality"]

    def has_view_permission(self, request, obj=None):
        user = request.user
        if user.is_superuser:
            return True
        if not user.has_perm("applicants.view_integrationcentre") or roles.uses_public_labels(user):
            # Finance knows centres by their public labels (docs/permissions.md).
            return False
        return obj is None or obj.pk in centre_ids(user)

    def has_change_permission(self, request, obj=None):
        # Managers "change" a centre only to start or stop its staff (the inline).
        user = request.user
        if user.is_superuser:
            return True
        if obj is not None and obj.pk not in centre_ids(user):
            return False
        return user.has_perm("applicants.change_integrationcentre") or may_manage_staff(user, obj)

    def has_add_permission(self, request):
        return request.user.has_perm("applicants.add_integrationcentre")

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(ReferralInstitution)
class ReferralInstitutionAdmin(admin.ModelAdmin):
    """The list officers choose the referring institution from. An entry is made
    inactive rather than deleted: the people it referred keep it (PROTECT)."""

    list_display = ["name", "kind", "country", "active"]
    list_filter = ["kind", "country", "active"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, never added or edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ConsentInline(ReadOnlyInline):
    model = ConsentRecord
    fields = ["version", "language", "given_at", "withdrawn_at", "recorded_by"]
    readonly_fields = fields


@admin.register(Applicant)
class ApplicantAdmin(admin.ModelAdmin):
    """Read-only: the list masks identifying fields; the page shows the ordinary fields
    to the staff of the applicant's centre, never the sensitive facts."""

    list_display = ["id", "masked_name", "birth_year", "masked_phone", "centre", "created_at"]
    list_filter = [("centre", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name_key", "=national_id", "=phone"]
    fields = [
        "first_name",
        "last_name",
        "date_of_birth",
        "phone",
        "national_id",
        "email",
        "municipality",
        "address",
        "centre",
        "is_returnee",
        "is_former_inmate",
        "is_socially_disadvantaged",
        "household_size",
        "household_ref",
        "dependants",
        "language",
        "created_at",
        "created_by",
        "pseudonymised_at",
    ]
    readonly_fields = fields
    inlines = [ConsentInline]
    actions = None

    def get_queryset(self, request):
        qs = super().get_queryset(request) if request.user.is_superuser else applicants_for(request.user)
        return qs.select_related("centre")

    @admin.display(description="name")
    def masked_name(self, obj):
        return f"{masked(obj, 'first_name')} {masked(obj, 'last_name')}"

    @admin.display(description="born")
    def birth_year(self, obj):
        return masked(obj, "date_of_birth")

    @admin.display(description="phone")
    def masked_phone(self, obj):
        return masked(obj, "phone")

    def has_view_permission(self, request, obj=None):
        user = request.user
        if user.is_superuser:
            return True
        if not (roles.sees_personal_data(user) and user.has_perm("applicants.view_applicant")):
            return False
        return obj is None or obj.centre_id in centre_ids(user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffProfileForm(forms.ModelForm):
    class Meta:
        model = StaffProfile
        fields = ["phone", "sms_reminders"]

    def clean_phone(self):
        """E.164, read as a Serbian number unless it starts with its country code
        (+383 for Kosovo), as the STOP reply and the provider give it."""
        try:
            return normalise_phone(self.cleaned_data.get("phone", ""))
        except InvalidPhone as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if data.get("sms_reminders") and not data.get("phone"):
            self.add_error("phone", "Reminders by SMS need a mobile number.")
        return data


class StaffProfileInline(admin.StackedInline):
    """The staff member's mobile number and whether visit reminders go to it by SMS."""

    model = StaffProfile
    form = StaffProfileForm
    can_delete = False
    extra = 0
    max_num = 1


class StaffUserAdmin(SavesAssignmentsThroughServices, UserAdmin):
    inlines = [*UserAdmin.inlines, UserCentresInline, StaffProfileInline]

    def get_inlines(self, request, obj):
        # A person gets a role (group) first, then centres: not on the add page.
        return self.inlines if obj is not None else []


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)


class ServiceAccountForm(forms.ModelForm):
    """A new service account: its key is shown once, on the page after saving."""

    role = forms.ChoiceField(choices=[(r, roles.GROUP_NAMES[r]) for r in service_accounts.ROLES])
    centres = forms.ModelMultipleChoiceField(queryset=IntegrationCentre.objects.none())
    days = forms.IntegerField(
        min_value=1, max_value=service_accounts.MAX_DAYS, initial=90, help_text=_("How long the key works.")
    )

    class Meta:
        model = ServiceAccount
        fields = ["name", "role", "centres", "days", "allowed_networks"]


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    """Programme managers create, rotate and revoke their integrations' accounts here (or
    with `manage.py create_service_account`); every change goes through the service."""

    list_display = ["name", "role", "expires_at", "revoked_at", "last_used"]
    readonly_fields = [
        "name",
        "role",
        "created_by",
        "created_at",
        "expires_at",
        "revoked_at",
        "allowed_networks",
    ]
    actions = ["rotate_keys", "revoke_accounts"]

    def _manager(self, request):
        return roles.has_role(request.user, roles.PROGRAMME_MANAGER)

    def has_module_permission(self, request):
        return self._manager(request)

    def has_view_permission(self, request, obj=None):
        return self._manager(request)

    def has_add_permission(self, request):
        return self._manager(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # A manager sees the accounts that reach only centres of theirs.
        mine = centre_ids(request.user)
        outside = StaffAssignment.objects.exclude(centre_id__in=mine).values("user_id")
        return super().get_queryset(request).exclude(user_id__in=outside).select_related("user")

    @admin.display(description=_("last used"))
    def last_used(self, account):
        token = account.user.api_tokens.order_by("-last_used").first()
        return token.last_used if token else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ServiceAccountForm
            form = super().get_form(request, obj, change=change, **kwargs)
            form.base_fields["centres"].queryset = centres_for(request.user)
            return form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return ServiceAccountForm.Meta.fields if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        values = form.cleaned_data
        try:
            account, key = service_accounts.create_service_account(
                by=request.user,
                name=values["name"],
                role=values["role"],
                centres=list(values["centres"]),
                days=values["days"],
                allowed_networks=values.get("allowed_networks", ""),
            )
        except (ServiceError, NotAllowed) as refused:
            raise forms.ValidationError(str(getattr(refused, "message", refused))) from None
        obj.pk = account.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            _("The key of %(name)s, shown only now: %(key)s — store it in the integration's secrets.")
            % {"name": account.name, "key": key},
        )

    def save_related(self, request, form, formsets, change):
        """The service gave the account its centres; nothing more to save."""

    @admin.action(description=_("Give the selected accounts a new key (the old stops working)"))
    def rotate_keys(self, request, queryset):
        for account in queryset.filter(revoked_at__isnull=True):
            key = service_accounts.rotate_key(account=account, by=request.user)
            messages.warning(
                request,
                _("New key of %(name)s, shown only now: %(key)s") % {"name": account.name, "key": key},
            )

    @admin.action(description=_("Revoke the selected accounts"))
    def revoke_accounts(self, request, queryset):
        for account in queryset:
            service_accounts.revoke(account=account, by=request.user)
        messages.success(request, _("Revoked."))


class ReferralPartnerForm(forms.ModelForm):
    class Meta:
        model = ReferralPartner
        fields = ["name", "country", "members"]

    def __init__(self, *args, countries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].queryset = countries
        # Only accounts holding the referral partner role, and no one else's staff: a
        # member reads what became of the partner's referrals.
        self.fields["members"].queryset = (
            User.objects.filter(groups=roles.group_of(roles.REFERRAL_PARTNER)).order_by("username").distinct()
        )
        self.fields["members"].required = False


@admin.register(ReferralPartner)
class ReferralPartnerAdmin(admin.ModelAdmin):
    """The organisations that refer people (a Roma association, the employment service),
    kept by superusers and by programme managers for the countries of their centres. Who
    belongs to a partner decides what its accounts read (grants.referrals), so every
    change is written to the audit trail."""

    list_display = ["name", "country", "member_count"]
    list_filter = ["country"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def _countries(self, request):
        if request.user.is_superuser:
            return Country.objects.all()
        return Country.objects.filter(centres__in=centres_for(request.user)).distinct()

    def _manages(self, request, obj=None):
        user = request.user
        if user.is_superuser:
            return True
        if not roles.has_role(user, roles.PROGRAMME_MANAGER):
            return False
        return obj is None or self._countries(request).filter(pk=obj.country_id).exists()

    def has_module_permission(self, request):
        return self._manages(request)

    def has_view_permission(self, request, obj=None):
        return self._manages(request, obj)

    def has_add_permission(self, request):
        return self._manages(request)

    def has_change_permission(self, request, obj=None):
        return self._manages(request, obj)

    def has_delete_permission(self, request, obj=None):
        # A partner named on people's records stays (PROTECT would refuse anyway).
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(members_count=Count("members", distinct=True))
        if request.user.is_superuser:
            return queryset
        return queryset.filter(country__in=self._countries(request))

    @admin.display(description=_("members"), ordering="members_count")
    def member_count(self, partner):
        return partner.members_count

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ReferralPartnerForm
        form = super().get_form(request, obj, change=change, **kwargs)
        countries = self._countries(request)

        class Bound(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, countries=countries, **inner)

        return Bound

    def save_related(self, request, form, formsets, change):
        before = sorted(form.instance.members.values_list("pk", flat=True)) if change else []
        super().save_related(request, form, formsets, change)
        after = sorted(form.instance.members.values_list("pk", flat=True))
        trail.record(
            action="referral_partner_changed",
            actor=request.user,
            data={
                "partner": form.instance.pk,
                "name": form.instance.name,
                "before": {"members": before},
                "after": {"members": after},
            },
        )
        for user in User.objects.filter(pk__in=set(before) ^ set(after)):
            forget_permissions(user)


class InstitutionForm(forms.ModelForm):
    """An institution's own facts, checked as the service checks them
    (`institutions.clean_changes`): a refusal is shown at its field."""

    class Meta:
        model = Institution
        fields = institutions.AUDITED_FIELDS

    def changes(self):
        return {name: self.cleaned_data[name] for name in institutions.AUDITED_FIELDS if name in self.fields}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            institutions.clean_changes(self.instance, self.changes())
        except ServiceError as refused:
            for field, problems in (refused.details or {None: [refused.message]}).items():
                for problem in problems:
                    self.add_error(field if field in self.fields else None, problem)
        return data


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    """Institutions as grantees (applicants.institutions), kept by superusers and by the
    programme managers of their centres. Field officers register them with their contact
    person's consent on the web page, so nothing is added here; a change goes through
    `institutions.update_institution` (audited), and an institution with applications is
    never deleted."""

    form = InstitutionForm
    list_display = ["name", "kind", "centre", "contact_person", "application_count"]
    list_filter = ["kind", ("centre", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "registration_number", "municipality"]
    readonly_fields = ["centre", "contact_person", "contact_phone", "application_count", "created_at"]
    actions = None

    def get_queryset(self, request):
        return institutions.institutions_managed_by(request.user).annotate(
            applications_count=Count("applications")
        )

    def _may(self, request, obj=None):
        user = request.user
        if obj is not None:
            return bool(institutions.can_change_institution(user, obj))
        return user.is_superuser or roles.has_role(user, roles.PROGRAMME_MANAGER)

    def has_module_permission(self, request):
        return self._may(request)

    def has_view_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return self._may(request, obj)

    @admin.display(description=gettext_lazy("contact person"), ordering="contact__last_name")
    def contact_person(self, institution):
        return institution.contact.full_name

    @admin.display(description=gettext_lazy("contact person's phone"))
    def contact_phone(self, institution):
        return institution.contact.phone or "–"

    @admin.display(description=gettext_lazy("applications"), ordering="applications_count")
    def application_count(self, institution):
        return institution.applications_count

    def save_model(self, request, obj, form, change):
        institutions.update_institution(institution=obj, by=request.user, **form.changes())

    def delete_view(self, request, object_id, extra_context=None):
        institution = self.get_object(request, unquote(object_id))
        if institution is not None and self.has_delete_permission(request, institution):
            reason = institutions.deletion_refused(institution)
            if reason:
                self.message_user(request, reason, messages.ERROR)
                return redirect(reverse("admin:applicants_institution_change", args=[institution.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        institutions.delete_institution(institution=obj, by=request.user)
