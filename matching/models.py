"""Imported rows (SourceRecord) from every list and export, and how each is linked to an employer."""

from django.conf import settings
from django.db import models

from employers.choices import SourceKind
from employers.models import Employer


class ImportBatch(models.Model):
    """One imported file."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "待确认"
        RUNNING = "running", "导入中"
        DONE = "done", "已导入"
        FAILED = "failed", "失败"

    kind = models.CharField("来源类型", max_length=12, choices=SourceKind.choices)
    department = models.CharField("来源部门", max_length=20, blank=True)
    file_name = models.CharField("文件名", max_length=255)
    file_sha256 = models.CharField("文件摘要", max_length=64, db_index=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PREVIEW)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, verbose_name="导入人"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    rows_total = models.PositiveIntegerField("总行数", default=0)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    summary = models.JSONField("汇总", default=dict, blank=True)
    message = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "导入批次"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name}"


class SourceRecord(models.Model):
    """One row of an imported file, normalised, without personal data, and its link to an employer."""

    class LinkStatus(models.TextChoices):
        UNLINKED = "unlinked", "待比对"
        LINKED = "linked", "已关联"
        REVIEW = "review", "待审核"
        NEW = "new", "新单位"

    batch = models.ForeignKey(ImportBatch, models.CASCADE, related_name="records", verbose_name="批次")
    kind = models.CharField("来源类型", max_length=12, choices=SourceKind.choices, db_index=True)
    row_number = models.PositiveIntegerField("行号")
    name = models.CharField("单位名称", max_length=300)
    name_norm = models.CharField("规范名称", max_length=300, db_index=True)
    code = models.CharField("信用代码（原文）", max_length=50, blank=True)
    code_norm = models.CharField("信用代码（规范）", max_length=30, blank=True, db_index=True)
    code_valid = models.BooleanField("代码校验通过", default=False)
    address = models.CharField("地址", max_length=300, blank=True)
    township_name = models.CharField("乡镇", max_length=50, blank=True)
    industry_text = models.CharField("行业（原文）", max_length=100, blank=True)
    industry_code = models.CharField("行业代码", max_length=5, blank=True)
    workers = models.PositiveIntegerField("职工人数", null=True, blank=True)
    exposed_workers = models.PositiveIntegerField("接害人数", null=True, blank=True)
    department = models.CharField("来源部门", max_length=20, blank=True)
    record_date = models.DateField("日期", null=True, blank=True)
    # Non-personal fields of the row (operating status, declaration type, hazard factor,
    # monitoring points …). Never worker names, ID numbers or per-person conclusions.
    data = models.JSONField("其他字段", default=dict, blank=True)

    employer = models.ForeignKey(
        Employer, models.SET_NULL, null=True, blank=True, related_name="source_records", verbose_name="用人单位"
    )
    link_status = models.CharField(
        "比对状态", max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNLINKED, db_index=True
    )
    link_method = models.CharField("关联方式", max_length=20, blank=True)
    link_score = models.FloatField("相似度", null=True, blank=True)
    link_rule = models.CharField("规则/审核人", max_length=100, blank=True)
    link_version = models.CharField("比对程序版本", max_length=20, blank=True)
    linked_at = models.DateTimeField("关联时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "来源记录"
        ordering = ["batch", "row_number"]
        indexes = [models.Index(fields=["kind", "link_status"])]

    def __str__(self):
        return f"{self.batch.file_name} 第{self.row_number}行 {self.name}"
