"""Programmes, applications and the audit trail in the admin site.

Staff see only what their permissions allow: each list is the permission-filtered
selector (filtered in the database), each object page asks the object permission
(grants.permissions). Applications move through the workflow services only: here a
programme manager may reassign one to another field officer, nothing else. The audit
trail is read-only for everyone, and the auditor sees it without personal data.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from guardian.admin import ReinforcedGuardedModelAdmin

from applicants import roles
from applicants.admin import ReadOnlyInline
from applicants.models import Country, IntegrationCentre
from applicants.selectors import centre_ids_query
from applicants.sensitivity import mask
from audit.models import AuditEvent
from core.errors import NotAllowed, NotVisible, ServiceError

from . import permissions, selectors, services
from .models import Call, EquipmentItem, GrantApplication, Programme, ProgrammeScope, RegionalProgramme
from .selectors import SCOPED_ROLES

User = get_user_model()


def sees_personal_data(user):
    return user.is_superuser or roles.sees_personal_data(user)


class CallInline(admin.TabularInline):
    """The programme's calls: dates, centres (none: all of the country's), budget share."""

    model = Call
    fields = ["name", "opens", "closes", "revision_deadline", "budget", "centres"]
    extra = 0
    min_num = 1
    validate_min = True
    ordering = ["opens", "id"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "centres" and not request.user.is_superuser:
            kwargs["queryset"] = IntegrationCentre.objects.filter(pk__in=centre_ids_query(request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    """Managers run programmes and calls in the countries of their centres. Other apps
    add their inlines to `ProgrammeAdmin.inlines` (assessments: the rubric)."""

    list_display = [
        "name",
        "public_label",
        "donor",
        "country",
        "currency",
        "budget",
        "ceiling",
        "call_opens",
        "call_closes",
    ]

    @admin.display(description=_("call opens"))
    def call_opens(self, obj):
        return obj.call_opens

    @admin.display(description=_("call closes"))
    def call_closes(self, obj):
        return obj.call_closes

    list_filter = [
        ("country", admin.RelatedOnlyFieldListFilter),
        "currency",
        ("regional_programme", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "donor"]
    inlines = [CallInline]

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request).select_related("country").prefetch_related("calls")
        return selectors.programmes_for(request.user).prefetch_related("calls")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "country" and not request.user.is_superuser:
            kwargs["queryset"] = Country.objects.filter(centres__in=centre_ids_query(request.user)).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_reach(self, request, obj):
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request, obj=None):
        # Finance and the auditor know programmes by their public labels: the admin,
        # which shows names, is not theirs (docs/permissions.md, "Public labels").
        user = request.user
        return super().has_view_permission(request, obj) and (
            user.is_superuser or (not roles.uses_public_labels(user) and self._in_reach(request, obj))
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            request.user.is_superuser or self._in_reach(request, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    # Budgets, ceilings, pass marks and the rubric decide grants: each save is audited.
    def save_model(self, request, obj, form, change):
        services.save_programme(programme=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        services.save_programme_rows(programme=form.instance, formset=formset, by=request.user)

    def delete_model(self, request, obj):
        services.delete_programme(programme=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for programme in queryset:
            services.delete_programme(programme=programme, by=request.user)


class ItemInline(ReadOnlyInline):
    model = EquipmentItem
    fields = ["position", "description", "quantity", "unit_cost"]
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(GrantApplication)
class GrantApplicationAdmin(ReinforcedGuardedModelAdmin):
    """Read-only but for the assigned officer, which a programme manager may change."""

    list_display = [
        "id",
        "business_name",
        "applicant_masked",
        "state",
        "centre",
        "programme",
        "assigned_officer",
        "requested_total",
        "created_at",
    ]
    list_filter = [
        "state",
        ("programme", admin.RelatedOnlyFieldListFilter),
        ("centre", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["business_name", "=id"]
    list_select_related = ["applicant", "centre", "programme", "assigned_officer"]
    fields = [
        "applicant",
        "institution",
        "programme",
        "centre",
        "business_name",
        "sector",
        "is_cooperative",
        "state",
        "assigned_officer",
        "requested_total",
        "approved_amount",
        "approved_by",
        "created_at",
        "submitted_at",
        "approved_at",
        "delivered_at",
        "closed_at",
    ]
    inlines = [ItemInline]
    actions = None

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request)
        return selectors.applications_for(request.user)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and permissions.can_reassign(request.user, obj):
            return [f for f in self.fields if f != "assigned_officer"]
        return self.fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_officer":
            application_id = request.resolver_match.kwargs.get("object_id")
            centre = GrantApplication.objects.filter(pk=application_id).values("centre_id")
            officers = User.objects.filter(
                groups__permissions__content_type__app_label="applicants",
                groups__permissions__codename=f"role_{roles.FIELD_OFFICER}",
                integrationcentreuserobjectpermission__permission__codename="access_centre",
                integrationcentreuserobjectpermission__content_object_id__in=centre,
            )
            kwargs["queryset"] = officers.distinct().order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="applicant")
    def applicant_masked(self, obj):
        return f"{mask(obj.applicant.first_name)} {mask(obj.applicant.last_name)}"

    def has_view_permission(self, request, obj=None):
        user = request.user
        if user.is_superuser:
            return True
        if roles.uses_public_labels(user):
            return False  # names beside programme names: see ProgrammeAdmin
        if obj is None:
            return user.has_perm("grants.view_grantapplication") and roles.is_staff_member(user)
        return permissions.can_view_application(user, obj).allowed

    def has_change_permission(self, request, obj=None):
        user = request.user
        if obj is None:
            return user.is_superuser or (
                roles.has_role(user, roles.PROGRAMME_MANAGER)
                and user.has_perm("grants.change_grantapplication")
            )
        return permissions.can_reassign(user, obj).allowed

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "assigned_officer" not in form.changed_data or obj.assigned_officer is None:
            return
        try:
            services.reassign_application(application=obj, officer=obj.assigned_officer, by=request.user)
        except (ServiceError, NotAllowed) as exc:
            messages.error(request, str(exc))
        except NotVisible:
            messages.error(request, "Not found.")


class AuditEventAdmin(admin.ModelAdmin):
    """Append-only: no add, change or delete for anyone, superusers included."""

    date_hierarchy = "at"
    list_filter = ["action"]
    list_select_related = ["applicant"]
    actions = None
    PERSONAL = ["applicant", "on_behalf_of", "comment", "data"]
    ALL_FIELDS = [
        "at",
        "actor_shown",
        "action",
        "application_id",
        "from_state",
        "to_state",
        "applicant",
        "on_behalf_of",
        "comment",
        "data",
        "prev_hash",
        "hash",
    ]

    def get_queryset(self, request):
        return selectors.audit_events_for(request.user).select_related("actor", "applicant", "free_text")

    def _fields_for(self, request):
        if sees_personal_data(request.user):
            return self.ALL_FIELDS
        return [f for f in self.ALL_FIELDS if f not in self.PERSONAL]

    def get_list_display(self, request):
        shown = ["at", "actor_shown", "action", "application_id", "from_state", "to_state"]
        return [*shown, "on_behalf_of"] if sees_personal_data(request.user) else shown

    def get_fields(self, request, obj=None):
        return self._fields_for(request)

    def get_readonly_fields(self, request, obj=None):
        return self._fields_for(request)

    def get_search_fields(self, request):
        return (
            ["actor_username", "action", "free_text__text"]
            if sees_personal_data(request.user)
            else ["action"]
        )

    @admin.display(description="actor")
    def actor_shown(self, obj):
        # The applicant's own username is personal data: those who may not see it read
        # "the applicant" instead.
        if obj.actor_id is not None and obj.applicant_id and obj.actor_id == obj.applicant.user_id:
            return "the applicant"
        return obj.actor_name or "the system"

    def has_view_permission(self, request, obj=None):
        user = request.user
        if user.is_superuser:
            return True
        if not (roles.is_staff_member(user) and user.has_perm("grants.view_auditevent")):
            return False
        return obj is None or selectors.audit_events_for(user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# grants.admin_audit may have registered a plainer read-only admin first.
if admin.site.is_registered(AuditEvent):
    admin.site.unregister(AuditEvent)
admin.site.register(AuditEvent, AuditEventAdmin)


class ProgrammeScopeForm(forms.ModelForm):
    class Meta:
        model = ProgrammeScope
        fields = ["user", "programme", "regional_programme", "donor"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scoped = User.objects.none()
        for role in SCOPED_ROLES:
            scoped = scoped | User.objects.filter(groups=roles.group_of(role))
        self.fields["user"].queryset = scoped.distinct().order_by("username")
        for name in ("programme", "regional_programme", "donor"):
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        named = [bool(data.get("programme")), bool(data.get("regional_programme"))]
        named.append(bool((data.get("donor") or "").strip()))
        if sum(named) != 1:
            raise forms.ValidationError(_("Name one programme, one regional programme or one donor."))
        return data


@admin.register(ProgrammeScope)
class ProgrammeScopeAdmin(admin.ModelAdmin):
    """Narrowing a manager, auditor or M&E officer to programmes, to a regional
    programme's country parts or to a donor's programmes (docs/permissions.md, "Scopes by
    programme and donor"): superusers only,
    one row at a time, through grants.services.set_programme_scope (validated and
    audited), as `manage.py scope_staff` does."""

    form = ProgrammeScopeForm
    list_display = ["user", "programme", "regional_programme", "donor", "created_at", "created_by"]
    list_filter = ["donor"]
    search_fields = ["user__username", "donor", "programme__name", "regional_programme__name"]
    list_select_related = ["user", "programme", "regional_programme", "created_by"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        # A row is added or removed; changing one in place would hide what it was.
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def _current(self, user, without=None):
        rows = ProgrammeScope.objects.filter(user=user)
        if without is not None:
            rows = rows.exclude(pk=without.pk)
        named = {"programmes": [], "regional_programmes": [], "donors": []}
        for programme, regional, donor in rows.values_list("programme_id", "regional_programme_id", "donor"):
            if programme:
                named["programmes"].append(programme)
            elif regional:
                named["regional_programmes"].append(regional)
            else:
                named["donors"].append(donor)
        return named

    def _apply(self, request, user, named):
        try:
            services.set_programme_scope(user=user, by=request.user, **named)
        except (ServiceError, NotAllowed) as exc:
            self.message_user(request, str(getattr(exc, "message", exc)), messages.ERROR)
            return False
        return True

    def save_model(self, request, obj, form, change):
        named = self._current(obj.user)
        if obj.programme_id:
            named["programmes"].append(obj.programme_id)
        elif obj.regional_programme_id:
            named["regional_programmes"].append(obj.regional_programme_id)
        else:
            named["donors"].append(obj.donor.strip())
        if self._apply(request, obj.user, named):
            saved = ProgrammeScope.objects.filter(
                user=obj.user,
                programme=obj.programme,
                regional_programme=obj.regional_programme,
                donor=obj.donor.strip(),
            ).first()
            obj.pk = saved.pk if saved else None

    def delete_model(self, request, obj):
        self._apply(request, obj.user, self._current(obj.user, without=obj))

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user"):
            self.delete_model(request, obj)

    def response_add(self, request, obj, post_url_continue=None):
        # The service replaced the user's rows: there is no `obj` row to continue with.
        return self.response_post_save_add(request, obj)


class RegionalPartInline(ReadOnlyInline):
    """Each country's part: a programme of that country, set on the programme's page."""

    model = Programme
    fk_name = "regional_programme"
    fields = ["name", "country", "currency", "budget"]
    readonly_fields = fields
    verbose_name = _("part")
    verbose_name_plural = _("parts (one programme per country)")


@admin.register(RegionalProgramme)
class RegionalProgrammeAdmin(admin.ModelAdmin):
    """A donor's programme across countries. Superusers name it; each country's
    programme joins it from its own page (same donor, one per country)."""

    list_display = ["name", "public_name", "donor", "part_count"]
    search_fields = ["name", "donor"]
    inlines = [RegionalPartInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(parts_count=Count("parts"))

    @admin.display(description=_("countries"), ordering="parts_count")
    def part_count(self, regional):
        return regional.parts_count

    def has_module_permission(self, request):
        return request.user.is_superuser or roles.has_role(request.user, roles.PROGRAMME_MANAGER)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and not roles.uses_public_labels(request.user)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
