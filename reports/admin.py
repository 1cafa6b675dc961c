"""A programme's indicators and their targets, edited in the admin by programme
managers (their programmes only); every save is audited (reports.services)."""

from django.contrib import admin

from applicants import roles

from . import figures as reports
from . import services
from .models import Indicator, IndicatorTarget


class IndicatorTargetInline(admin.TabularInline):
    model = IndicatorTarget
    fields = ["year", "sex", "value"]
    extra = 1
    ordering = ["year", "sex"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "programme", "definition", "baseline"]
    list_filter = [("programme", admin.RelatedOnlyFieldListFilter), "definition"]
    search_fields = ["code", "name_en", "name_sr_latn", "name_sq"]
    fields = ["programme", "position", "code", "name_en", "name_sr_latn", "name_sq", "definition", "baseline"]
    inlines = [IndicatorTargetInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("programme")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(programme__in=reports.reportable_programmes(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "programme" and not request.user.is_superuser:
            kwargs["queryset"] = reports.reportable_programmes(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        # Names of programmes: not for the roles that know them by public labels.
        return super().has_module_permission(request) and not roles.uses_public_labels(request.user)

    def save_model(self, request, obj, form, change):
        services.save_indicator(indicator=obj, by=request.user)

    def save_formset(self, request, form, formset, change):
        services.save_indicator_targets(indicator=form.instance, formset=formset, by=request.user)

    def delete_model(self, request, obj):
        services.delete_indicator(indicator=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for indicator in queryset:
            services.delete_indicator(indicator=indicator, by=request.user)
