"""告知动员: outreach events with the employers they reached, notice sign-offs, and trainings."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse

from employers.models import Employer
from hezuo_shenbao.lib.uploads import validate_upload


class EventKind(models.TextChoices):
    NOTICE = "告知单发放", "告知单发放"
    WECHAT_GROUP = "微信群", "微信群"
    PUBLIC_ACCOUNT = "公众号", "公众号"
    SUPERVISION_LETTER = "监督意见书", "监督意见书"
    PUBLICITY_WEEK = "宣传周", "《职业病防治法》宣传周"
    TRAINING = "专题培训", "专题培训"
    # Plan 三、工作要求 “三要加强宣传”: the ways of publicity it names besides the notices above.
    MEDIA = "媒体宣传", "媒体宣传（网络、电视、多媒体、移动终端）"
    ANKANG_CUP = "安康杯竞赛", "“安康杯”竞赛"
    HEALTHY_ENTERPRISE = "健康企业建设", "“健康企业”建设"
    FIVE_INTO = "五进活动", "职业健康知识“五进”活动"
    OTHER = "其他", "其他"


class TrainingTopic(models.TextChoices):
    PROCEDURE = "申报程序", "申报程序"
    INDUSTRY = "企业行业类型", "企业行业类型"
    WORKERS = "劳动者人数", "劳动者人数"
    HAZARDS = "职业病危害因素辨识", "职业病危害因素辨识"
    LAW = "法律法规", "法律法规"
    OTHER = "其他", "其他"


class OutreachEventQuerySet(models.QuerySet):
    def between(self, start, end):
        return self.filter(date__gte=start, date__lte=end)


class OutreachEvent(models.Model):
    """告知动员活动: one notice round, WeChat post, supervision letter, publicity-week action …"""

    kind = models.CharField("形式", max_length=8, choices=EventKind.choices)
    date = models.DateField("日期", db_index=True)
    description = models.TextField("内容说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    employers = models.ManyToManyField(Employer, through="OutreachTarget", related_name="outreach_events")

    objects = OutreachEventQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "告知动员活动"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"

    def get_absolute_url(self):
        return reverse("outreach:event_detail", args=[self.pk])


class OutreachTarget(models.Model):
    """One employer reached by an event, and whether its notice was delivered and signed for (签收)."""

    event = models.ForeignKey(OutreachEvent, models.CASCADE, related_name="targets", verbose_name="活动")
    employer = models.ForeignKey(Employer, models.CASCADE, related_name="outreach_targets", verbose_name="用人单位")
    delivered = models.BooleanField("已送达", default=False)
    signed_on = models.DateField("签收日期", null=True, blank=True)
    signer = models.CharField("签收人", max_length=50, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "告知对象"
        ordering = ["employer__name", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "employer"], name="outreach_target_unique")]

    def __str__(self):
        return f"{self.event} → {self.employer}"

    @property
    def is_signed(self):
        return self.signed_on is not None


class Attachment(models.Model):
    """A photo or scanned PDF of an event (signed notices, posters, screenshots)."""

    event = models.ForeignKey(OutreachEvent, models.CASCADE, related_name="attachments", verbose_name="活动")
    file = models.FileField("文件", upload_to="outreach/%Y/%m/", validators=[validate_upload])
    note = models.CharField("说明", max_length=200, blank=True)
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "活动附件"
        ordering = ["id"]

    def __str__(self):
        return self.file.name.rsplit("/", 1)[-1]


class Training(models.Model):
    """专题培训: a training on declaration, with attendance per employer."""

    date = models.DateField("日期", db_index=True)
    place = models.CharField("地点", max_length=200)
    topics = models.JSONField("培训内容", default=list, blank=True)
    description = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="登记人"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "专题培训"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.place}"

    def get_absolute_url(self):
        return reverse("outreach:training_detail", args=[self.pk])


class TrainingAttendance(models.Model):
    """How many people an employer sent to a training."""

    training = models.ForeignKey(Training, models.CASCADE, related_name="attendance", verbose_name="培训")
    employer = models.ForeignKey(Employer, models.CASCADE, related_name="trainings_attended", verbose_name="用人单位")
    persons = models.PositiveIntegerField("参训人数", default=1, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = verbose_name_plural = "培训参加单位"
        ordering = ["employer__name", "id"]
        constraints = [models.UniqueConstraint(fields=["training", "employer"], name="training_attendance_unique")]

    def __str__(self):
        return f"{self.training} · {self.employer}（{self.persons}人）"
