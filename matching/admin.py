from django.contrib import admin

from hezuo_shenbao.lib.admin import ModelAdmin, TabularInline

from .models import CrossrefRun, ImportBatch, ImportIssue, LinkDecision, SourceRecord


class IssueInline(TabularInline):
    model = ImportIssue
    extra = 0
    fields = ["row_number", "column", "level", "message"]
    readonly_fields = fields
    show_change_link = False


@admin.register(ImportBatch)
class ImportBatchAdmin(ModelAdmin):
    list_display = ["file_name", "kind", "department", "status", "rows_total", "uploaded_by", "created_at"]
    list_filter = ["kind", "status"]
    search_fields = ["file_name", "file_sha256"]
    readonly_fields = ["file_sha256", "summary", "rows_total", "rows_done", "created_at", "finished_at"]
    inlines = [IssueInline]


@admin.register(SourceRecord)
class SourceRecordAdmin(ModelAdmin):
    list_display = ["name", "kind", "batch", "row_number", "link_status", "employer", "link_method", "link_score"]
    list_filter = ["kind", "link_status", "link_method"]
    search_fields = ["name", "name_norm", "code_norm"]
    raw_id_fields = ["batch", "employer", "candidate", "township"]


@admin.register(LinkDecision)
class LinkDecisionAdmin(ModelAdmin):
    list_display = ["name_norm", "code_norm", "employer", "accepted", "decided_by", "decided_at"]
    list_filter = ["accepted"]
    raw_id_fields = ["employer"]


@admin.register(CrossrefRun)
class CrossrefRunAdmin(ModelAdmin):
    list_display = ["started_at", "status", "records_total", "started_by"]
    readonly_fields = ["summary"]
