from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Declaration,
    Employer,
    EmployerAlias,
    EmployerSource,
    HazardFactor,
    Industry,
    KeyIndustry,
    Township,
)
from .resources import EmployerResource


class AliasInline(admin.TabularInline):
    model = EmployerAlias
    extra = 0


class SourceInline(admin.TabularInline):
    model = EmployerSource
    extra = 0


@admin.register(Employer)
class EmployerAdmin(ImportExportModelAdmin, SimpleHistoryAdmin):
    resource_classes = [EmployerResource]
    list_display = ["name", "code", "code_valid", "township", "industry", "register_status", "declaration_status"]
    list_filter = ["register_status", "declaration_status", "township", "scale", "operating_status"]
    search_fields = ["name", "code"]
    raw_id_fields = ["industry"]
    readonly_fields = ["register_by", "register_at", "declared_on", "declaration_type", "declaration_status"]
    inlines = [AliasInline, SourceInline]


@admin.register(Declaration)
class DeclarationAdmin(SimpleHistoryAdmin):
    list_display = ["employer", "declaration_type", "declared_on", "receipt_no"]
    list_filter = ["declaration_type"]
    search_fields = ["employer__name", "receipt_no"]
    raw_id_fields = ["employer", "industry"]


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "section", "risk"]
    list_filter = ["level", "section", "risk"]
    search_fields = ["code", "name"]


admin.site.register(Township)
admin.site.register(HazardFactor)


@admin.register(KeyIndustry)
class KeyIndustryAdmin(admin.ModelAdmin):
    """县重点行业: CDC names an industry (门类, 大类, 中类 or 小类) with its reason; the figures show its line."""

    list_display = ["industry", "reason", "added_by", "added_at"]
    raw_id_fields = ["industry"]
    readonly_fields = ["added_by", "added_at"]

    def save_model(self, request, obj, form, change):
        obj.added_by = obj.added_by or request.user
        super().save_model(request, obj, form, change)
