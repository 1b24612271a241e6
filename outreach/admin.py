from django.contrib import admin

from hezuo_shenbao.lib.admin import ModelAdmin, TabularInline

from .models import Attachment, OutreachEvent, OutreachTarget, Training, TrainingAttendance


class OutreachTargetInline(TabularInline):
    model = OutreachTarget
    raw_id_fields = ["employer"]
    extra = 0


class AttachmentInline(TabularInline):
    model = Attachment
    extra = 0


@admin.register(OutreachEvent)
class OutreachEventAdmin(ModelAdmin):
    list_display = ["date", "kind", "description", "created_by"]
    list_filter = ["kind"]
    date_hierarchy = "date"
    inlines = [OutreachTargetInline, AttachmentInline]


class TrainingAttendanceInline(TabularInline):
    model = TrainingAttendance
    raw_id_fields = ["employer"]
    extra = 0


@admin.register(Training)
class TrainingAdmin(ModelAdmin):
    list_display = ["date", "place", "created_by"]
    date_hierarchy = "date"
    inlines = [TrainingAttendanceInline]
