"""A realistic synthetic Heshui county: employers with plausible names, valid codes and a
realistic share declared. Used by `seed_demo` and the benchmarks; deterministic for a seed."""

import datetime
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from hezuo_shenbao import roles
from hezuo_shenbao.lib.login import DEMO_PASSWORD

from .choices import DeclarationType, OperatingStatus, RegisterStatus, Scale, SourceKind
from .codes import USCC_CHARS, make_uscc
from .models import Declaration, Employer, EmployerSource, Industry, OperatingChange, RegisterChange, Township

COUNTY_AREA = "621024"
# The demo county's register starts from the city's list as of the campaign's start, confirmed a month later.
DEMO_LIST_DATE = datetime.date(2024, 3, 31)
# The day the demo's dates are drawn back from.
DEMO_DAY = datetime.date(2025, 9, 30)
DEMO_CONFIRMED = datetime.date(2024, 4, 30)
# (小类 code, weight, name stems) — oil and gas, construction, building materials, repair and
# services dominate a Longdong county.
INDUSTRY_MIX = [
    ("0711", 6, ["石油开采", "采油"]),
    ("1120", 8, ["油田技术服务", "石油工程技术服务", "井下作业"]),
    ("4812", 5, ["公路工程", "路桥建设"]),
    ("4852", 4, ["管道工程", "油气管道安装"]),
    ("4790", 6, ["建筑工程", "建设工程"]),
    ("3021", 3, ["水泥制品", "预制构件"]),
    ("3031", 4, ["新型建材", "页岩砖厂"]),
    ("3011", 1, ["水泥"]),
    ("1013", 2, ["肉食品加工", "清真肉业"]),
    ("1391", 2, ["淀粉加工", "粉条加工"]),
    ("2110", 2, ["家具制造", "木业"]),
    ("3311", 2, ["钢结构", "金属构件"]),
    ("3130", 1, ["铸造", "钢铁铸件"]),
    ("2511", 1, ["石化", "原油加工"]),
    ("4411", 1, ["热电", "火力发电"]),
    ("4430", 2, ["供热", "热力"]),
    ("4610", 2, ["供水", "自来水"]),
    ("8111", 6, ["汽车修理", "汽修"]),
    ("5265", 4, ["加油站", "石油销售"]),
    ("0311", 2, ["牛羊养殖", "养殖"]),
    ("0141", 2, ["蔬菜种植", "果业"]),
    ("8411", 3, ["医院", "卫生院"]),
    ("6210", 3, ["餐饮", "酒店"]),
    ("5191", 2, ["农资", "商贸"]),
    ("7721", 1, ["环保", "危废处置"]),
    ("2319", 1, ["印刷", "彩印"]),
    ("1713", 1, ["纺织", "棉纺"]),
    ("2631", 1, ["化肥", "复合肥"]),
]
TRADE_NAMES = list(
    "陇原 子午 华池 合盛 西华 长庆 庆阳 陇东 宏达 鑫源 祥瑞 金泰 恒通 兴旺 瑞丰 永昌 昌盛 宏远 东方 新华 "
    "顺达 安泰 盛世 汇丰 天誉 博远 润泽 泰和 丰源 晨光 正大 华宇 金鼎 腾飞 嘉禾 宝丰 锦程 鸿运 信达 同心 "
    "北斗 秦川 黄土 董志 塬上 蒿咀 固城 太白 板桥 老城 吉岘 肖咀 段家 店子 太莪 何家 莲池 葫芦 马莲".split()
)
FORMS = ["有限公司", "有限责任公司", "有限公司", "有限公司", "厂", "合作社", "经营部"]
PREFIXES = ["合水县", "合水县", "庆阳", "甘肃", "", ""]
DEMO_USERS = [
    # username, full name, role
    ("cdc", "张敏", roles.CDC),
    ("inspector", "李强", roles.INSPECTOR),
    # One inspector for every three townships, as the county's team is (the demo assigns them).
    ("inspector2", "赵刚", roles.INSPECTOR),
    ("inspector3", "刘洋", roles.INSPECTOR),
    ("inspector4", "陈静", roles.INSPECTOR),
    ("bureau", "王芳", roles.BUREAU),
    ("admin", "管理员", roles.ADMIN),
]


def _scale_for(workers):
    if workers >= 1000:
        return Scale.LARGE
    if workers >= 300:
        return Scale.MEDIUM
    return Scale.SMALL if workers >= 20 else Scale.MICRO


def _body8(rng):
    return "".join(rng.choice(USCC_CHARS[:10] if i < 2 else USCC_CHARS[:-5]) for i in range(8))


def build_employers(count, seed=2024, today=None):
    """Unsaved employers plus, per employer index, its declaration date (or None)."""
    rng = random.Random(seed)
    today = today or DEMO_DAY
    townships = list(Township.objects.order_by("code"))
    industries = {i.code: i for i in Industry.objects.filter(code__in=[c for c, _, _ in INDUSTRY_MIX])}
    weights = [w for _, w, _ in INDUSTRY_MIX]
    used_names, used_codes = set(), set()
    employers, declared = [], []
    while len(employers) < count:
        code_i, _, stems = rng.choices(INDUSTRY_MIX, weights)[0]
        # Longer 字号 once the short ones run out (60 words, 3,600 pairs, 216,000 triples).
        words = 1 + (rng.random() < 0.3) + (len(used_names) >= 2500)
        trade = "".join(rng.choice(TRADE_NAMES) for _ in range(words))
        # Each 字号 once in the county, as the market regulator registers them: two employers that differ
        # only in 合水县/庆阳 or 有限公司/合作社 would be one employer to anyone matching names.
        if trade in used_names:
            continue
        name = f"{rng.choice(PREFIXES)}{trade}{rng.choice(stems)}{rng.choice(FORMS)}"
        code = make_uscc(COUNTY_AREA, _body8(rng))
        if code in used_codes:
            continue
        used_names.add(trade)
        used_codes.add(code)
        # Seat-heavy: half the employers sit in 西华池镇.
        township = townships[0] if rng.random() < 0.45 else rng.choice(townships)
        workers = max(1, int(rng.lognormvariate(2.6, 1.1)))
        industry = industries[code_i]
        status = rng.choices(
            [OperatingStatus.ACTIVE, OperatingStatus.SUSPENDED, OperatingStatus.DEREGISTERED, OperatingStatus.REVOKED],
            [90, 6, 3, 1],
        )[0]
        suspended = (
            today - datetime.timedelta(days=rng.randint(20, 400)) if status == OperatingStatus.SUSPENDED else None
        )
        # Larger, serious-hazard employers declare more often, as in real county data.
        p_declared = 0.25 + (0.25 if industry.risk == "严重" else 0) + (0.2 if workers >= 10 else 0)
        employers.append(
            Employer(
                name=name,
                code=code,
                code_valid=True,
                registered_address=f"甘肃省庆阳市合水县{township.name}{rng.randint(1, 300)}号",
                workplace_address=f"合水县{township.name}{rng.choice(['工业园区', '村', '街', '社区'])}",
                township=township,
                industry=industry,
                economic_type=rng.choice(["有限责任公司", "私营企业", "股份有限公司", "国有企业", "个体"]),
                scale=_scale_for(workers),
                workers=workers,
                exposed_workers=rng.randint(0, workers),
                hazard_categories=rng.sample(["粉尘", "化学因素", "物理因素"], rng.randint(1, 3)),
                operating_status=status,
                suspended_since=suspended,
                register_status=rng.choices(
                    [RegisterStatus.INCLUDED, RegisterStatus.PENDING, RegisterStatus.EXCLUDED], [80, 17, 3]
                )[0],
            )
        )
        declared.append(today - datetime.timedelta(days=rng.randint(1, 700)) if rng.random() < p_declared else None)
    return employers, declared


@transaction.atomic
def seed_county(count=3000, seed=2024, batch_size=2000):
    """Create the demo employers with their sources and declarations; returns the number created."""
    rng = random.Random(seed + 1)
    employers, declared_on = build_employers(count, seed)
    for e in employers:
        e.listed_on = DEMO_LIST_DATE
    for e, when in zip(employers, declared_on):
        if when:
            e.declaration_status, e.declared_on = "已申报", when
            e.declaration_type = DeclarationType.INITIAL
    created = bulk_create_with_history(employers, Employer, batch_size=batch_size)
    sources, declarations = [], []
    departments = ["市场监管", "应急管理", "税务", "人社", "统计"]
    for e in created:
        roll = rng.random()
        if roll < 0.75:
            sources.append(EmployerSource(employer=e, kind=SourceKind.REGISTER))
        elif roll < 0.93:
            sources.append(EmployerSource(employer=e, kind=SourceKind.DEPARTMENT, department=rng.choice(departments)))
        else:
            sources.append(EmployerSource(employer=e, kind=SourceKind.ENFORCEMENT))
        if e.declared_on:
            declarations.append(
                Declaration(
                    employer=e,
                    declaration_type=DeclarationType.INITIAL,
                    declared_on=e.declared_on,
                    receipt_no=f"SB{e.declared_on:%Y}{e.pk:07d}",
                    industry_id=e.industry_id,
                    workers=e.workers,
                    exposed_workers=e.exposed_workers,
                    hazard_categories=e.hazard_categories,
                )
            )
    for source in sources:
        source.listed_on = DEMO_LIST_DATE
    EmployerSource.objects.bulk_create(sources, batch_size=batch_size)
    Declaration.objects.bulk_create(declarations, batch_size=batch_size)
    # The dated decisions and statuses the quarter's figures are read from (Employer.objects.standing).
    RegisterChange.objects.bulk_create(
        [
            RegisterChange(employer=e, status=e.register_status, effective_on=DEMO_CONFIRMED, reason="演示：名单确认")
            for e in created
            if e.register_status != RegisterStatus.PENDING
        ],
        batch_size=batch_size,
    )
    OperatingChange.objects.bulk_create(
        [
            OperatingChange.build(
                e.pk,
                e.operating_status,
                e.suspended_since or DEMO_DAY - datetime.timedelta(days=rng.randint(30, 500)),
                "演示数据",
            )
            for e in created
            if e.operating_status != OperatingStatus.ACTIVE
        ],
        batch_size=batch_size,
    )
    return len(created)


def ensure_demo_users():
    User = get_user_model()
    users = []
    for username, full_name, role in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name = full_name
        user.is_staff = role in (roles.ADMIN, roles.CDC)
        user.is_superuser = role == roles.ADMIN
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        users.append((username, full_name, role))
    return users
