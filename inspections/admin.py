from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from hezuo_shenbao.lib.admin import CleanFormMixin, ModelAdmin, TabularInline

from .models import Assignment, Enforcement, EnforcementAttachment, VerificationSample, Visit, VisitPhoto


class VisitPhotoInline(TabularInline):
    model = VisitPhoto
    extra = 0


@admin.register(Visit)
class VisitAdmin(CleanFormMixin, SimpleHistoryAdmin):
    list_display = ["date", "employer", "visit_type", "outcome", "follow_up_on", "follow_up_open"]
    list_filter = ["visit_type", "outcome", "follow_up_open"]
    date_hierarchy = "date"
    raw_id_fields = ["employer"]
    filter_horizontal = ["inspectors"]
    inlines = [VisitPhotoInline]


@admin.register(Assignment)
class AssignmentAdmin(ModelAdmin):
    list_display = ["inspector", "township", "employer", "created_by", "created_at"]
    list_filter = ["township"]
    raw_id_fields = ["employer"]


@admin.register(VerificationSample)
class VerificationSampleAdmin(ModelAdmin):
    list_display = ["created_at", "size", "seed", "township", "created_by"]
    raw_id_fields = ["employers"]


class EnforcementAttachmentInline(TabularInline):
    model = EnforcementAttachment
    extra = 0


@admin.register(Enforcement)
class EnforcementAdmin(CleanFormMixin, SimpleHistoryAdmin):
    list_display = ["date", "employer", "action", "document_no", "deadline", "corrected_on", "amount"]
    list_filter = ["action"]
    date_hierarchy = "date"
    raw_id_fields = ["employer", "visit"]
    inlines = [EnforcementAttachmentInline]
