from django.contrib import admin
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX
from simple_history.admin import SimpleHistoryAdmin

from hezuo_shenbao.lib.admin import CleanFormMixin, ModelAdmin, TabularInline

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


class AliasInline(TabularInline):
    model = EmployerAlias
    extra = 0


class SourceInline(TabularInline):
    model = EmployerSource
    extra = 0


@admin.register(Employer)
class EmployerAdmin(CleanFormMixin, ExportMixin, SimpleHistoryAdmin):
    # Export only: employers come in through the app's import (数据导入), which checks every row, asks
    # for a reason to exclude one and keeps the declaration fields derived from the declarations.
    resource_classes = [EmployerResource]
    # The two formats whose cells EmployerResource neutralises; the others (JSON, HTML…) are not offered.
    formats = [XLSX, CSV]
    list_display = ["name", "code", "code_valid", "township", "industry", "register_status", "declaration_status"]
    list_filter = ["register_status", "declaration_status", "township", "scale", "operating_status"]
    search_fields = ["name", "code"]
    raw_id_fields = ["industry"]
    readonly_fields = ["register_by", "register_at", "declared_on", "declaration_type", "declaration_status"]
    inlines = [AliasInline, SourceInline]


@admin.register(Declaration)
class DeclarationAdmin(CleanFormMixin, SimpleHistoryAdmin):
    list_display = ["employer", "declaration_type", "declared_on", "receipt_no"]
    list_filter = ["declaration_type"]
    search_fields = ["employer__name", "receipt_no"]
    raw_id_fields = ["employer", "industry"]


@admin.register(Industry)
class IndustryAdmin(ModelAdmin):
    list_display = ["code", "name", "level", "section", "risk"]
    list_filter = ["level", "section", "risk"]
    search_fields = ["code", "name"]


admin.site.register(Township, ModelAdmin)
admin.site.register(HazardFactor, ModelAdmin)


@admin.register(KeyIndustry)
class KeyIndustryAdmin(ModelAdmin):
    """县重点行业: CDC names an industry (门类, 大类, 中类 or 小类) with its reason; the figures show its line."""

    list_display = ["industry", "reason", "added_by", "added_at"]
    raw_id_fields = ["industry"]
    readonly_fields = ["added_by", "added_at"]

    def save_model(self, request, obj, form, change):
        obj.added_by = obj.added_by or request.user
        super().save_model(request, obj, form, change)
