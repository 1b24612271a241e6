from django.db import models


class Scale(models.TextChoices):
    LARGE = "大", "大型"
    MEDIUM = "中", "中型"
    SMALL = "小", "小型"
    MICRO = "微", "微型"


class OperatingStatus(models.TextChoices):
    ACTIVE = "在业", "在业"
    SUSPENDED = "停产停业", "停产停业"
    DEREGISTERED = "注销", "注销"
    REVOKED = "吊销", "吊销"
    # The market regulator's other two endings of a registration in the county.
    MOVED_OUT = "迁出", "迁出"
    CANCELLED = "撤销", "撤销"


class RegisterStatus(models.TextChoices):
    PENDING = "待确认", "待确认"
    INCLUDED = "已纳入", "已纳入"
    EXCLUDED = "已排除", "已排除"


class DeclarationStatus(models.TextChoices):
    UNDECLARED = "未申报", "未申报"
    DECLARED = "已申报", "已申报"


class ReviewStatus(models.TextChoices):
    """审核状态 of a filing in the declaration system."""

    APPROVED = "审核通过", "审核通过"
    PENDING = "待审核", "待审核"
    RETURNED = "退回", "退回"
    # The export had no 审核状态 column (older exports, filings entered by hand).
    UNKNOWN = "", "未注明"


class DeclaredBasis(models.TextChoices):
    """Which filings make an employer "declared" in the bulletin's rates (settings.BULLETIN_DECLARED_BASIS)."""

    CURRENT = "current", "有效申报"
    EVER = "ever", "曾申报"


class DeclarationType(models.TextChoices):
    INITIAL = "初次申报", "初次申报"
    CHANGE = "变更申报", "变更申报"
    ANNUAL = "年度更新", "年度更新"


class SourceKind(models.TextChoices):
    REGISTER = "register", "市级下发"
    DEPARTMENT = "department", "部门名单"
    ENFORCEMENT = "enforcement", "执法发现"
    EXAM = "exam", "职业健康检查"
    MONITORING = "monitoring", "工作场所监测"
    RADIATION = "radiation", "放射卫生检测"
    DECLARATION = "declaration", "申报系统"
    MANUAL = "manual", "手工录入"


# The departments the plan names (二(一)3).
DEPARTMENTS = ["发改", "人社", "工信", "税务", "国资", "市场监管", "应急管理", "统计", "工会"]


class HazardCategory(models.TextChoices):
    DUST = "粉尘", "粉尘"
    CHEMICAL = "化学因素", "化学因素"
    PHYSICAL = "物理因素", "物理因素"
    RADIOLOGICAL = "放射性因素", "放射性因素"
    BIOLOGICAL = "生物因素", "生物因素"
    OTHER = "其他因素", "其他因素"


class FilingAuthority(models.TextChoices):
    """Where the employer files (申报办法 第四条): 中央企业 and 省属企业 and their units with the city."""

    COUNTY = "", "县级（本县受理）"
    CENTRAL = "中央企业", "中央企业（向市级申报）"
    PROVINCIAL = "省属企业", "省属企业（向市级申报）"


class RiskDecision(models.TextChoices):
    """CDC's decision on one employer's risk class, over its industry's verdict."""

    SERIOUS = "严重", "严重"
    GENERAL = "一般", "一般"


class IndustryRisk(models.TextChoices):
    SERIOUS = "严重", "严重"
    GENERAL = "一般", "一般"
    JUDGE = "需判断", "需人工判断"
    UNLISTED = "", "未列入目录"


class OpenReason(models.TextChoices):
    """Why an employer on the list has still not declared; kept current by outreach and visits."""

    NOT_REACHED = "未联系上", "未联系上"
    NOTIFIED = "已告知待申报", "已告知待申报"
    # Guided through the declaration on site (现场指导申报); the filing shows once the declaration
    # export is imported. Stronger than a notice: a later notice does not replace it.
    GUIDED = "已指导待申报", "已指导待申报"
    PROMISED = "承诺限期申报", "承诺限期申报"
    REFUSED = "拒不申报", "拒不申报"
    SUSPENDED = "停产停业", "停产停业"
    NO_HAZARD = "无危害待核实", "无危害待核实"
    DEREGISTERED = "已注销", "已注销"
