from django.contrib import admin

from hezuo_shenbao.lib.admin import ModelAdmin

from .models import Bulletin, Submission


@admin.register(Bulletin)
class BulletinAdmin(ModelAdmin):
    list_display = ["__str__", "state", "number", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["year", "quarter", "state", "status"]
    readonly_fields = ["figures", "lists"]


@admin.register(Submission)
class SubmissionAdmin(ModelAdmin):
    list_display = ["__str__", "employer_count", "declared_count", "submitted_by", "submitted_at"]
    list_filter = ["year", "quarter"]
