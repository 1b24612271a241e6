"""A county's seven files as its CDC receives them, with the truth behind every spreadsheet row.

Written from a description of the field (issue 16, /work/shared/reference/domain-notes.md §d, §g, §h), not from
the matcher: nothing here is imported from `matching/`. Each true firm gets an id; each row records the firm it
belongs to and the kinds of noise it carries, so that figures can be reported per kind.

The noise kinds (`KINDS`) are those a CDC meets when the city's base list, the department lists, enforcement
notes, the exam, monitoring and radiation exports and the declaration system's export are put side by side.
"""

import csv
import json
import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import openpyxl

# --- codes (GB 32100 and GB 11714, domain-notes.md §d) -------------------------------------------------

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def uscc_check(body17):
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return USCC_CHARS[(31 - total % 31) % 31]


def uscc_valid(code):
    return len(code) == 18 and all(c in USCC_CHARS for c in code) and uscc_check(code[:17]) == code[17]


def org_check(body8):
    remainder = 11 - sum(ORG_CHARS.index(c) * w for c, w in zip(body8, ORG_WEIGHTS)) % 11
    return "X" if remainder == 10 else "0" if remainder == 11 else str(remainder)


def new_uscc(rng, authority, area):
    """A valid code: authority + type (91 company, 92 individual, 93 cooperative, 12 institution), the
    registering area, an organisation code (old all-digit style or the post-2015 MA style) and the check."""
    while True:
        if rng.random() < 0.55:
            org8 = "MA7" + "".join(rng.choice(USCC_CHARS) for _ in range(5))
        else:
            org8 = "".join(rng.choice("0123456789") for _ in range(8))
        org9 = org8 + org_check(org8)
        body = authority + area + org9
        if all(c in USCC_CHARS for c in body):
            return body + uscc_check(body)


def id_number(rng, area, birth):
    """An 18-digit resident ID (GB 11643 check) for a made-up worker: the exam export carries one per row."""
    body = f"{area}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


# --- the field's vocabulary ------------------------------------------------------------------------------

# The 12 townships as the app loads them (employers/data/, copied from the shared reference with its provenance).
TOWNSHIPS_CSV = Path(__file__).resolve().parent.parent / "employers" / "data" / "heshui_townships.csv"


def townships():
    with TOWNSHIPS_CSV.open(encoding="utf-8") as fh:
        return [row["name"] for row in csv.DictReader(fh)]


# 庆阳市's counties and district with their area codes (GB/T 2260), for the city and for look-alikes that are
# registered elsewhere in the city. 合水县 is 621024 (domain-notes.md §g).
COUNTIES = {
    "合水县": "621024",
    "西峰区": "621002",
    "庆城县": "621021",
    "环县": "621022",
    "华池县": "621023",
    "正宁县": "621025",
    "宁县": "621026",
    "镇原县": "621027",
}
CITY_AREA, PROVINCE_AREA = "621000", "620000"

# 字号 characters as firms here choose them; pairs are drawn from these.
ZIHAO_FIRST = "安通博德晟长明华兴宏达利泰瑞祥恒富永顺金盛天宇峰佳伟鹏凯泽润亿旺辉东全信宝鑫荣源隆新腾陇庆合鸿丰昌"
ZIHAO_SECOND = "明荣源城隆新腾华兴达利泰瑞祥恒富顺盛宇峰佳伟鹏凯泽润旺辉远东泉信宝鑫昌晨博安诚成原龙"

# Homophones under pinyin input (tone-insensitive, with the usual nasal and sibilant confusions): one
# character of the 字号 replaced by another from its group.
HOMOPHONES = [
    "安按岸暗",
    "明铭鸣名茗",
    "通同彤桐",
    "荣融蓉容溶",
    "博搏柏泊",
    "源原元圆园远缘",
    "德得",
    "城成诚程承呈",
    "晟盛胜圣",
    "隆龙珑垅",
    "长常昌畅",
    "新鑫欣昕心信馨",
    "腾滕藤",
    "华化桦骅",
    "兴星幸",
    "达大",
    "宏鸿弘红洪",
    "利力立丽莉",
    "泰太钛",
    "瑞锐睿",
    "祥翔详",
    "恒衡横",
    "富福甫",
    "永勇涌泳",
    "顺舜",
    "金晶京今锦",
    "天添田",
    "宇雨玉钰禹",
    "峰丰风锋枫",
    "佳嘉家加",
    "伟威维为",
    "鹏朋蓬",
    "凯恺开铠",
    "泽则",
    "润闰",
    "亿义益艺毅",
    "旺望",
    "辉晖徽",
    "东冬",
    "全泉权",
    "宝保",
    "陇龙",
    "庆青",
    "合和河",
    "晨辰臣",
    "丰峰",
]
HOMOPHONE_OF = {c: group for group in HOMOPHONES for c in group}

# Characters that look alike (a misread handwritten form, an OCR'd list).
SHAPE_TWINS = {
    "博": "搏",
    "泰": "秦",
    "永": "水",
    "天": "夭",
    "宏": "宠",
    "旺": "汪",
    "晨": "晟",
    "金": "全",
    "全": "金",
    "鑫": "森",
    "昌": "冒",
    "腾": "滕",
    "源": "塬",
    "隆": "陆",
    "宇": "字",
    "佳": "桂",
    "凯": "剀",
    "辉": "挥",
    "润": "涧",
}

# Simplified → traditional or variant forms met in names typed on another system.
TRADITIONAL = dict(
    zip(
        "华业厂机电贸开发矿砖车县庆阳东兴龙长顺达丰鸿园农专责务术饰筑构制团项门诊医卫钢铁气热运线场镇乡铺宝荣泽伟鹏凯润辉庄汇",
        "華業廠機電貿開發礦磚車縣慶陽東興龍長順達豐鴻園農專責務術飾築構製團項門診醫衛鋼鐵氣熱運線場鎮鄉鋪寶榮澤偉鵬凱潤輝莊匯",
    )
)

# Typos of the townships as they are typed in lists (a wrong character, 镇 for 乡, the suffix dropped).
TOWNSHIP_TYPOS = {
    "西华池镇": ["西化池镇", "西华驰镇", "西华池"],
    "老城镇": ["老成镇", "老城乡", "老城"],
    "太白镇": ["太百镇", "太白乡"],
    "板桥镇": ["板乔镇", "板桥乡", "板桥"],
    "何家畔镇": ["何家泮镇", "合家畔镇", "何家畔"],
    "吉岘镇": ["吉现镇", "吉岘乡"],
    "肖咀镇": ["肖嘴镇", "萧咀镇", "肖咀"],
    "固城镇": ["固成镇", "古城镇"],
    "段家集乡": ["段家级乡", "段家集镇", "段家集"],
    "太莪乡": ["太峨乡", "太蛾乡", "太莪"],
    "店子乡": ["店子镇", "店仔乡"],
    "蒿咀铺乡": ["蒿嘴铺乡", "蒿咀堡乡", "蒿咀铺"],
}
COUNTY_TYPOS = {"合水县": ["和水县", "合永县", "河水县"]}


@dataclass(frozen=True)
class Trade:
    word: str  # as registered
    variants: tuple  # how other lists write it
    industry: str  # GB/T 4754-2017 小类
    industry_name: str
    forms: tuple  # legal forms a firm of this trade takes
    exam: float  # chance of an exam record (workers exposed)
    monitoring: float
    radiation: float
    factors: tuple  # hazard factors as the exam and monitoring systems name them


TRADES = [
    Trade(
        "石油技术服务",
        ("石油工程技术服务", "油田技术服务"),
        "1120",
        "石油和天然气开采专业及辅助性活动",
        ("有限公司", "有限责任公司"),
        0.55,
        0.45,
        0.15,
        ("噪声", "硫化氢", "苯"),
    ),
    Trade(
        "石油机械",
        ("石油机械设备", "油田机械"),
        "3399",
        "其他未列明金属制品制造",
        ("有限公司", "有限责任公司", "厂"),
        0.45,
        0.35,
        0.05,
        ("噪声", "电焊烟尘", "锰及其化合物"),
    ),
    Trade(
        "建材",
        ("建筑材料",),
        "3099",
        "其他非金属矿物制品制造",
        ("有限公司", "有限责任公司", "厂"),
        0.4,
        0.3,
        0.0,
        ("矽尘", "水泥粉尘", "噪声"),
    ),
    Trade(
        "水泥制品",
        ("水泥预制品",),
        "3021",
        "水泥制品制造",
        ("有限公司", "厂", "有限责任公司"),
        0.4,
        0.3,
        0.0,
        ("水泥粉尘", "噪声"),
    ),
    Trade(
        "商品混凝土",
        ("商砼", "混凝土"),
        "3021",
        "水泥制品制造",
        ("有限公司", "有限责任公司"),
        0.45,
        0.35,
        0.0,
        ("水泥粉尘", "矽尘", "噪声"),
    ),
    Trade(
        "预制构件",
        ("砼构件", "水泥预制构件"),
        "3022",
        "砼结构构件制造",
        ("厂", "有限公司", "农民专业合作社"),
        0.35,
        0.25,
        0.0,
        ("水泥粉尘", "噪声"),
    ),
    Trade(
        "页岩砖",
        ("机砖", "砖"),
        "3031",
        "粘土砖瓦及建筑砌块制造",
        ("厂", "有限公司", "有限责任公司"),
        0.4,
        0.35,
        0.0,
        ("矽尘", "噪声", "高温"),
    ),
    Trade("石料", ("石材加工", "石材"), "3032", "建筑用石加工", ("厂", "有限公司"), 0.35, 0.3, 0.0, ("矽尘", "噪声")),
    Trade(
        "钢结构",
        ("钢构",),
        "3311",
        "金属结构制造",
        ("有限公司", "有限责任公司", "厂"),
        0.45,
        0.35,
        0.1,
        ("电焊烟尘", "噪声", "紫外线"),
    ),
    Trade(
        "机械加工",
        ("机加工", "机械制造"),
        "3399",
        "其他未列明金属制品制造",
        ("厂", "有限公司"),
        0.35,
        0.25,
        0.0,
        ("噪声", "金属烟"),
    ),
    Trade(
        "汽车修理",
        ("汽修", "汽车维修"),
        "8111",
        "汽车修理与维护",
        ("有限公司", "厂"),
        0.3,
        0.2,
        0.0,
        ("苯", "噪声", "电焊烟尘"),
    ),
    Trade(
        "家具",
        ("家俱", "木制家具"),
        "2110",
        "木质家具制造",
        ("厂", "有限公司"),
        0.3,
        0.25,
        0.0,
        ("木粉尘", "苯", "噪声"),
    ),
    Trade("木材加工", ("木业",), "2011", "锯材加工", ("厂", "有限公司"), 0.3, 0.2, 0.0, ("木粉尘", "噪声")),
    Trade("印刷", ("印务", "彩印"), "2319", "包装装潢及其他印刷", ("有限公司", "厂"), 0.3, 0.25, 0.0, ("苯", "噪声")),
    Trade(
        "酒业",
        ("酿酒", "白酒"),
        "1512",
        "白酒制造",
        ("有限公司", "有限责任公司", "股份有限公司"),
        0.3,
        0.2,
        0.0,
        ("噪声", "高温"),
    ),
    Trade(
        "淀粉",
        ("淀粉制品",),
        "1391",
        "淀粉及淀粉制品制造",
        ("厂", "有限公司", "农民专业合作社"),
        0.2,
        0.15,
        0.0,
        ("噪声",),
    ),
    Trade(
        "建筑工程",
        ("建筑安装工程", "建设工程"),
        "4790",
        "其他房屋建筑业",
        ("有限公司", "有限责任公司", "股份有限公司"),
        0.3,
        0.15,
        0.0,
        ("矽尘", "噪声", "电焊烟尘"),
    ),
    Trade(
        "公路工程",
        ("路桥工程", "公路建设"),
        "4812",
        "公路工程建筑",
        ("有限公司", "有限责任公司"),
        0.3,
        0.15,
        0.0,
        ("沥青烟", "噪声", "矽尘"),
    ),
    Trade(
        "管道工程",
        ("管道安装", "管道安装工程"),
        "4920",
        "管道和设备安装",
        ("有限公司", "有限责任公司"),
        0.35,
        0.2,
        0.1,
        ("电焊烟尘", "噪声", "紫外线"),
    ),
    Trade(
        "热电",
        ("电力", "发电"),
        "4411",
        "火力发电",
        ("有限公司", "有限责任公司", "股份有限公司"),
        0.6,
        0.55,
        0.05,
        ("煤尘", "噪声", "高温"),
    ),
    Trade(
        "供热",
        ("热力", "热力供应"),
        "4430",
        "热力生产和供应",
        ("有限公司", "有限责任公司"),
        0.45,
        0.4,
        0.0,
        ("煤尘", "噪声", "高温"),
    ),
    Trade(
        "化工",
        ("化学", "精细化工"),
        "2614",
        "有机化学原料制造",
        ("有限公司", "有限责任公司", "股份有限公司"),
        0.55,
        0.5,
        0.05,
        ("苯", "甲醛", "噪声"),
    ),
    Trade(
        "煤业",
        ("煤矿",),
        "0610",
        "烟煤和无烟煤开采洗选",
        ("有限公司", "有限责任公司", "股份有限公司"),
        0.7,
        0.6,
        0.05,
        ("煤尘", "噪声", "矽尘"),
    ),
    Trade(
        "砂石",
        ("砂石料", "土石方"),
        "1019",
        "粘土及其他土砂石开采",
        ("有限公司", "厂", "农民专业合作社"),
        0.35,
        0.3,
        0.0,
        ("矽尘", "噪声"),
    ),
    Trade("加油站", ("加油", "石化加油站"), "5265", "机动车燃油零售", ("有限公司",), 0.2, 0.25, 0.0, ("苯", "汽油")),
    Trade(
        "养殖",
        ("养殖场", "畜牧养殖"),
        "0311",
        "牛的饲养",
        ("农民专业合作社", "有限公司"),
        0.15,
        0.1,
        0.0,
        ("布鲁氏菌", "氨"),
    ),
    Trade("医院", ("医院",), "8411", "综合医院", ("有限公司",), 0.5, 0.1, 0.9, ("X射线", "电离辐射")),
    Trade("口腔诊所", ("口腔门诊", "牙科诊所"), "8425", "门诊部（所）", ("有限公司",), 0.4, 0.0, 0.85, ("X射线",)),
]
TRADE_BY_WORD = {t.word: t for t in TRADES}
# Trades open to individual businesses (个体工商户), with the words they end in.
INDIVIDUAL_TRADES = {
    "汽车修理": "部",
    "页岩砖": "厂",
    "石料": "厂",
    "家具": "店",
    "机械加工": "部",
    "木材加工": "厂",
    "口腔诊所": "",
    "印刷": "部",
    "预制构件": "厂",
}

# Legal forms as registered, and how lists mangle them: a dropped or wrong character, the variant form.
FORM_MANGLES = {
    "有限责任公司": ["限责任公司", "有限责任公", "有限则任公司", "有限公司", "有限责公司", "有线责任公司"],
    "有限公司": ["有线公司", "有限工司", "有限司", "有限公", "有限责任公司", "公司"],
    "股份有限公司": ["股分有限公司", "股份公司", "股份有线公司", "有限公司"],
    "厂": ["", "加工厂"],
    "农民专业合作社": ["专业合作社", "农民合作社", "农民专业合做社", "合作社"],
}
# Look-alike firms: the same 字号 and trade under another region and another legal form class.
LOOKALIKE_SHAPES = [
    ("合水县", "厂"),
    ("庆阳", "有限公司"),
    ("甘肃", "股份有限公司"),
    ("合水县", "农民专业合作社"),
    ("庆阳市", "有限责任公司"),
]
REGION_AREA = {
    "合水县": "621024",
    "庆阳": CITY_AREA,
    "庆阳市": CITY_AREA,
    "甘肃": PROVINCE_AREA,
    "甘肃省": PROVINCE_AREA,
}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "建国军明华强伟芳秀英玉兰志刚海燕红梅丽平文杰涛斌鹏辉静娟峰超勇亮磊敏霞云"
CONCLUSIONS = ["目前未见异常", "目前未见异常", "目前未见异常", "复查", "其他疾病或异常", "职业禁忌证", "疑似职业病"]
EXAM_CATEGORIES = ["上岗前", "在岗期间", "在岗期间", "在岗期间", "离岗时"]
INSTITUTIONS = ["庆阳市疾病预防控制中心", "合水县人民医院", "庆阳市职业病防治院", "甘肃省职业病防治院"]
DEVICES = {
    "医院": ["DR", "CT", "数字胃肠机", "移动式C形臂X射线机", "乳腺X射线机"],
    "口腔诊所": ["口腔全景X射线机", "牙片机", "口腔CBCT"],
    "石油技术服务": ["测井用密封放射源", "中子测井源"],
    "钢结构": ["X射线探伤机", "γ射线探伤机"],
    "管道工程": ["X射线探伤机"],
    "热电": ["核子秤"],
    "化工": ["料位计（密封源）"],
    "煤业": ["核子秤"],
    "石油机械": ["X射线探伤机"],
}

# Every kind of noise a row can carry. Firm kinds (what the firm is) are tagged on all its rows; row kinds
# (what a list did to it) on the rows they were applied to; a row with no row kind is tagged `clean`.
KINDS = {
    "clean": "无噪声 no row noise",
    "homophone": "字号同音字 pinyin-input homophone in the 字号",
    "shape_typo": "字号形近字 look-alike character in the 字号",
    "legal_form": "组织形式残缺或换写 mangled or variant legal form",
    "space": "名称中空格、换行 spaces and line breaks inside the name",
    "region": "地区前缀增删、县名错字 region prefix added, dropped or mistyped",
    "bracket": "全角/半角括号 brackets （） vs ()",
    "traditional": "繁体或异体字 traditional or variant characters",
    "abbrev": "行业用语简写 trade word written another way",
    "township_typo": "乡镇名错字 typo in the township",
    "fullwidth": "代码全角字符 full-width digits and letters in the code",
    "code_format": "代码小写、空格、科学计数法 code in lower case, with spaces, or in scientific notation",
    "code_typo": "代码错一位（校验失败） credit code one character off",
    "code_missing": "缺代码 code missing (blank, 无, /)",
    "regno": "旧注册号代替信用代码 the old 15-digit registration number for a code",
    "former_name": "曾用名（代码正确） former name with the right code",
    "duplicate_row": "同一文件重复行 exact repeat of a row in the same file",
    "lookalike": "相似单位（同字号同行业、不同地区和组织形式） look-alike firm",
    "branch": "分支机构 branch",
    "branch_parent_code": "分支机构使用总公司代码 branch listed under the parent's code",
    "individual": "个体工商户 individual business",
    "individual_operator": "个体户以经营者姓名列出 individual business listed by its operator's name",
    "institution": "事业单位 public institution",
}
FIRM_KINDS = {"lookalike", "branch", "individual", "institution"}


@dataclass
class Firm:
    fid: str
    region: str
    zihao: str
    trade: str
    form: str
    township: str
    code: str
    workers: int
    exposed: int
    county: str = "合水县"
    branch: str = ""
    parent: str = ""
    regno: str = ""
    former: str = ""
    person: str = ""
    institution_name: str = ""
    lookalike: int = 0
    declared: bool = False
    evidence: list = field(default_factory=list)

    @property
    def kinds(self):
        tags = []
        if self.lookalike:
            tags.append("lookalike")
        if self.branch:
            tags.append("branch")
        if self.person:
            tags.append("individual")
        if self.institution_name:
            tags.append("institution")
        return tags

    @property
    def name(self):
        if self.institution_name:
            return self.institution_name
        if self.person:
            return f"{self.region}{self.township}{self.person}{self.trade}{INDIVIDUAL_TRADES[self.trade]}"
        return f"{self.region}{self.zihao}{self.trade}{self.form}{self.branch}"


# --- building the county ---------------------------------------------------------------------------------


class County:
    """The true firms of a county (or a city: the same, spread over 庆阳市's eight counties)."""

    def __init__(self, seed=1, size=3000):
        self.rng = random.Random(seed)
        self.size = size
        self.city = size > 6000
        self.townships = townships()
        self.firms = []
        self.used_names = set()
        self.used_zihao = set()
        self.lookalike_groups = 0
        self._build()

    def _code(self, authority, area):
        return new_uscc(self.rng, authority, area)

    def _fresh_zihao(self, trade):
        for _ in range(200):
            zihao = self.rng.choice(ZIHAO_FIRST) + self.rng.choice(ZIHAO_SECOND)
            if zihao[0] != zihao[1] and (zihao, trade) not in self.used_zihao:
                self.used_zihao.add((zihao, trade))
                return zihao
        raise RuntimeError("字号 pool exhausted: enlarge ZIHAO_FIRST/ZIHAO_SECOND")

    def _size(self, trade):
        workers = max(1, int(self.rng.lognormvariate(2.6, 0.9)))
        share = 0.9 if trade.exam >= 0.4 else 0.6
        return workers, max(0, int(workers * share * self.rng.uniform(0.5, 1.0)))

    def _add(self, **kw):
        firm = Firm(fid=f"F{len(self.firms) + 1:05d}", **kw)
        self.firms.append(firm)
        return firm

    def _home(self):
        """The firm's county, which is also its region word as registered."""
        return self.rng.choice(list(COUNTIES)) if self.city else "合水县"

    def _company(self, trade=None, region=None, form=None, zihao=None):
        rng = self.rng
        trade = trade or rng.choice([t for t in TRADES if t.word not in ("医院", "口腔诊所", "养殖")])
        county = self._home()
        region = region or county
        if region in COUNTIES:
            county = region
        form = form or rng.choice(trade.forms)
        area = REGION_AREA.get(region) or COUNTIES[county]
        authority = "93" if form == "农民专业合作社" else "91"
        workers, exposed = self._size(trade)
        firm = self._add(
            region=region,
            zihao=zihao or self._fresh_zihao(trade.word),
            trade=trade.word,
            form=form,
            township=rng.choice(self.townships) if county == "合水县" else "",
            county=county,
            code=self._code(authority, area),
            workers=workers,
            exposed=exposed,
        )
        if rng.random() < 0.08:
            firm.regno = COUNTIES[county] + "".join(rng.choice("0123456789") for _ in range(9))
        return firm

    def _build(self):
        rng = self.rng
        n = self.size
        # Public institutions: the county hospitals and one 卫生院 per township (radiation, exam of staff).
        hospitals = ["人民医院", "中医医院", "妇幼保健院"]
        for county in COUNTIES if self.city else ["合水县"]:
            for hospital in hospitals:
                self._institution(
                    f"{county}{hospital}", county, rng.choice(self.townships) if county == "合水县" else ""
                )
            if county == "合水县":
                for township in self.townships:
                    self._institution(f"{county}{township}卫生院", county, township)
        while len(self.firms) < n:
            roll = rng.random()
            if roll < 0.04:
                self._lookalike_group()
            elif roll < 0.07:
                self._branch()
            elif roll < 0.21:
                self._individual()
            elif roll < 0.25:
                self._company(trade=TRADE_BY_WORD["养殖"], form="农民专业合作社")
            elif roll < 0.27:
                self._company(trade=TRADE_BY_WORD["医院"])
            else:
                self._company()
        del self.firms[n:]
        for firm in self.firms:
            if not firm.person and not firm.institution_name and not firm.branch and rng.random() < 0.06:
                self._rename(firm)
            self._evidence(firm)

    def _institution(self, name, county, township):
        workers = self.rng.randint(20, 300)
        self._add(
            region=county,
            zihao="",
            trade="医院",
            form="",
            township=township,
            county=county,
            code=self._code("12", COUNTIES[county]),
            workers=workers,
            exposed=max(3, workers // 8),
            institution_name=name,
        )

    def _lookalike_group(self):
        trade = self.rng.choice([t for t in TRADES if t.word not in ("医院", "口腔诊所", "加油站")])
        zihao = self._fresh_zihao(trade.word)
        self.lookalike_groups += 1
        for region, form in self.rng.sample(LOOKALIKE_SHAPES, self.rng.randint(2, 3)):
            firm = self._company(trade=trade, region=region, form=form, zihao=zihao)
            firm.lookalike = self.lookalike_groups

    def _branch(self):
        rng = self.rng
        parent = self._company(
            region=rng.choice(["甘肃", "庆阳", "合水县"]), form=rng.choice(["有限公司", "有限责任公司", "股份有限公司"])
        )
        label = rng.choice(["合水分公司", "合水县分公司", "第二分公司", "（合水项目部）", "合水项目部"])
        workers, exposed = self._size(TRADE_BY_WORD[parent.trade])
        self._add(
            region=parent.region,
            zihao=parent.zihao,
            trade=parent.trade,
            form=parent.form,
            branch=label,
            parent=parent.fid,
            township=rng.choice(self.townships),
            county="合水县",
            code=self._code("91", "621024"),
            workers=workers,
            exposed=exposed,
        )

    def _individual(self):
        rng = self.rng
        word = rng.choice(list(INDIVIDUAL_TRADES))
        county = self._home()
        workers = rng.randint(1, 15)
        for _ in range(50):
            person = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
            if (person, word) not in self.used_names:
                break
        self.used_names.add((person, word))
        self._add(
            region=county,
            zihao="",
            trade=word,
            form="",
            township=rng.choice(self.townships) if county == "合水县" else "",
            county=county,
            code=self._code("92", COUNTIES[county]),
            workers=workers,
            exposed=max(1, workers - rng.randint(0, 2)),
            person=person,
        )

    def _rename(self, firm):
        """The firm changed its name (更名): a new 字号, or a county firm registered again at the city."""
        firm.former = firm.name
        if self.rng.random() < 0.7:
            firm.zihao = self._fresh_zihao(firm.trade)
        else:
            firm.region = "庆阳" if firm.region != "庆阳" else "甘肃"

    def _evidence(self, firm):
        rng = self.rng
        trade = TRADE_BY_WORD[firm.trade]
        scale = min(1.2, 0.45 + firm.exposed / 40)
        if firm.exposed and rng.random() < trade.exam * scale:
            firm.evidence.append("exam")
        if firm.exposed and rng.random() < trade.monitoring * scale:
            firm.evidence.append("monitoring")
        if rng.random() < trade.radiation or (firm.institution_name and rng.random() < 0.8):
            firm.evidence.append("radiation")
        firm.declared = rng.random() < (0.62 if firm.evidence else 0.3)


# --- rendering rows as lists write them -------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How one source writes names and codes: the chance of each row kind, and of a code at all."""

    code: float  # chance that the row carries a code
    noise: dict  # row kind -> chance


REGISTER = Profile(
    0.85,
    {
        "legal_form": 0.03,
        "space": 0.03,
        "region": 0.12,
        "bracket": 0.3,
        "former_name": 0.5,
        "code_typo": 0.02,
        "fullwidth": 0.02,
        "traditional": 0.01,
        "abbrev": 0.02,
        "township_typo": 0.04,
        "regno": 0.3,
        "homophone": 0.01,
    },
)
MARKET = Profile(
    0.95,
    {
        "legal_form": 0.02,
        "space": 0.02,
        "region": 0.05,
        "bracket": 0.2,
        "former_name": 0.2,
        "code_typo": 0.02,
        "fullwidth": 0.03,
        "code_format": 0.03,
        "traditional": 0.01,
        "township_typo": 0.03,
    },
)
SAFETY = Profile(
    0.0,
    {
        "legal_form": 0.08,
        "space": 0.05,
        "region": 0.3,
        "bracket": 0.4,
        "former_name": 0.4,
        "abbrev": 0.15,
        "homophone": 0.04,
        "shape_typo": 0.02,
        "township_typo": 0.08,
        "traditional": 0.02,
        "individual_operator": 0.3,
    },
)
ENFORCEMENT = Profile(
    0.4,
    {
        "legal_form": 0.15,
        "space": 0.08,
        "region": 0.35,
        "bracket": 0.5,
        "abbrev": 0.2,
        "homophone": 0.12,
        "shape_typo": 0.05,
        "code_typo": 0.08,
        "township_typo": 0.1,
        "former_name": 0.3,
        "individual_operator": 0.4,
    },
)
EXAM = Profile(
    0.7,
    {
        "legal_form": 0.1,
        "space": 0.06,
        "region": 0.25,
        "bracket": 0.5,
        "abbrev": 0.08,
        "homophone": 0.1,
        "shape_typo": 0.03,
        "code_typo": 0.06,
        "fullwidth": 0.05,
        "code_format": 0.03,
        "traditional": 0.03,
        "township_typo": 0.08,
        "former_name": 0.5,
        "regno": 0.1,
        "branch_parent_code": 0.3,
        "individual_operator": 0.2,
    },
)
MONITORING = Profile(
    0.8,
    {
        "legal_form": 0.08,
        "space": 0.05,
        "region": 0.2,
        "bracket": 0.5,
        "abbrev": 0.06,
        "homophone": 0.07,
        "shape_typo": 0.02,
        "code_typo": 0.05,
        "fullwidth": 0.04,
        "code_format": 0.05,
        "traditional": 0.02,
        "township_typo": 0.06,
        "former_name": 0.4,
        "branch_parent_code": 0.3,
    },
)
RADIATION = Profile(
    0.75,
    {
        "legal_form": 0.06,
        "space": 0.04,
        "region": 0.2,
        "bracket": 0.4,
        "abbrev": 0.05,
        "homophone": 0.06,
        "code_typo": 0.05,
        "fullwidth": 0.05,
        "traditional": 0.03,
        "former_name": 0.4,
    },
)
DECLARATION = Profile(
    0.97,
    {
        "legal_form": 0.02,
        "space": 0.03,
        "region": 0.08,
        "bracket": 0.2,
        "code_typo": 0.03,
        "fullwidth": 0.02,
        "traditional": 0.01,
        "former_name": 0.15,
    },
)


class Renderer:
    def __init__(self, county):
        self.county = county
        self.rng = county.rng
        self.by_id = {f.fid: f for f in county.firms}
        self.taken = {(f.zihao, f.trade) for f in county.firms if f.zihao}

    def row(self, firm, profile):
        """(name, code, township, kinds) of one list's row for the firm."""
        rng = self.rng
        kinds = []
        noise = profile.noise

        def roll(kind):
            return rng.random() < noise.get(kind, 0.0)

        zihao, trade_word, form, region, branch = firm.zihao, firm.trade, firm.form, firm.region, firm.branch
        name = None
        if firm.former and roll("former_name"):
            name = firm.former
            kinds.append("former_name")
        elif firm.person and roll("individual_operator"):
            name = rng.choice([f"{firm.person}（个体工商户）", f"{firm.person}", f"{trade_word}（{firm.person}）"])
            kinds.append("individual_operator")
        elif firm.institution_name:
            name = firm.institution_name
            if roll("region"):
                name = name.replace(
                    firm.county, rng.choice(["", "庆阳市" + firm.county, "甘肃省庆阳市" + firm.county]), 1
                )
                kinds.append("region")
        else:
            if zihao and roll("homophone"):
                zihao = self._twist(zihao, trade_word, lambda c: HOMOPHONE_OF.get(c, c))
                if zihao != firm.zihao:
                    kinds.append("homophone")
            if zihao and roll("shape_typo"):
                twisted = self._twist(zihao, trade_word, lambda c: c + SHAPE_TWINS.get(c, c))
                if twisted != zihao:
                    zihao = twisted
                    kinds.append("shape_typo")
            trade = TRADE_BY_WORD[trade_word]
            if roll("abbrev") and trade.variants[0] != trade_word:
                trade_word = rng.choice(trade.variants)
                kinds.append("abbrev")
            if form and roll("legal_form"):
                form = rng.choice(FORM_MANGLES[form])
                kinds.append("legal_form")
            if roll("region"):
                region = self._region(region)
                kinds.append("region")
            if firm.person:
                town = firm.township
                if town and roll("township_typo"):
                    town = rng.choice(TOWNSHIP_TYPOS[town])
                    kinds.append("township_typo")
                name = f"{region}{town}{firm.person}{trade_word}{INDIVIDUAL_TRADES[firm.trade]}"
            else:
                name = f"{region}{zihao}{trade_word}{form}{branch}"
        if "（" in name or "(" in name:
            if roll("bracket"):
                name = name.replace("（", "(").replace("）", ")") if "（" in name else name.replace("(", "（")
                kinds.append("bracket")
        if roll("traditional"):
            changed = "".join(TRADITIONAL.get(c, c) if rng.random() < 0.6 else c for c in name)
            if changed != name:
                name = changed
                kinds.append("traditional")
        if roll("space") and len(name) > 4:
            at = rng.randrange(2, len(name) - 1)
            name = name[:at] + rng.choice([" ", "  ", "\u3000", "\n"]) + name[at:]
            kinds.append("space")
        elif rng.random() < 0.02:
            name = name + " "
            kinds.append("space")
        code = self._code(firm, profile, kinds, roll)
        township = firm.township
        if township and "township_typo" not in kinds and roll("township_typo"):
            township = rng.choice(TOWNSHIP_TYPOS[township])
            kinds.append("township_typo")
        return name, code, township, kinds

    def _twist(self, zihao, trade_word, choices):
        """The 字号 with one character replaced by one of `choices(c)`, unless that names another firm."""
        at = self.rng.randrange(2)
        options = [c for c in choices(zihao[at]) if c != zihao[at]]
        if not options:
            at = 1 - at
            options = [c for c in choices(zihao[at]) if c != zihao[at]]
        for c in self.rng.sample(options, len(options)):
            twisted = zihao[:at] + c + zihao[at + 1 :]
            if (twisted, trade_word) not in self.taken:
                return twisted
        return zihao

    def _region(self, region):
        rng = self.rng
        if region == "合水县":
            if rng.random() < 0.1:
                return rng.choice(COUNTY_TYPOS["合水县"])
            choices = ["", "合水", "庆阳市合水县", "甘肃省庆阳市合水县", "甘肃合水"]
        elif region in ("庆阳", "庆阳市"):
            choices = ["", "庆阳" if region == "庆阳市" else "庆阳市", "甘肃省庆阳市", "甘肃庆阳"]
        elif region in ("甘肃", "甘肃省"):
            choices = ["", "甘肃省" if region == "甘肃" else "甘肃"]
        else:
            choices = ["", f"庆阳市{region}", f"甘肃省庆阳市{region}"]
        return rng.choice(choices)

    def _code(self, firm, profile, kinds, roll):
        rng = self.rng
        if firm.parent and roll("branch_parent_code"):
            kinds.append("branch_parent_code")
            return self.by_id[firm.parent].code
        if rng.random() >= profile.code:
            kinds.append("code_missing")
            return rng.choice(["", "", "", "无", "/", "-", "0"])
        if firm.regno and roll("regno"):
            kinds.append("regno")
            return firm.regno
        code = firm.code
        # A renamed firm's current name often travels with a mistyped code: the case the issue describes.
        if roll("code_typo") or ("former_name" not in kinds and firm.former and rng.random() < 0.25):
            at = rng.randrange(2, 17)
            code = code[:at] + rng.choice([c for c in USCC_CHARS if c != code[at]]) + code[at + 1 :]
            kinds.append("code_typo")
        if roll("fullwidth"):
            code = "".join(chr(ord(c) + 0xFEE0) for c in code)
            kinds.append("fullwidth")
        elif roll("code_format"):
            if code.isdigit():
                code = f"{int(code):.5E}"
            elif rng.random() < 0.5:
                code = code.lower()
            else:
                code = f"{code[:6]} {code[6:12]} {code[12:]}"
            kinds.append("code_format")
        return code


# --- the seven files --------------------------------------------------------------------------------------


@dataclass
class Row:
    file: str
    row: int
    fid: str
    kinds: list
    name: str
    code: str


@dataclass
class SourceFile:
    kind: str
    path: str
    department: str = ""
    noise: list = field(default_factory=list)  # file-level quirks: title rows, encoding, …


def _date(rng, start=date(2024, 1, 1), end=date(2025, 12, 31)):
    return start + timedelta(days=rng.randrange((end - start).days))


class Writer:
    """Collects one file's rows with their truth, then writes it as .xlsx or as GBK CSV."""

    def __init__(self, out, filename, header, title_rows=()):
        self.out, self.filename, self.header, self.title_rows = out, filename, header, list(title_rows)
        self.rows, self.truth = [], []

    def add(self, values, fid, kinds, name, code):
        kinds = list(kinds)
        if not set(kinds) - FIRM_KINDS:
            kinds.insert(0, "clean")
        self.rows.append(values)
        first_row = len(self.title_rows) + 2  # 1-based, after title rows and the header
        self.truth.append(Row(self.filename, first_row + len(self.rows) - 1, fid, kinds, name, code))

    def add_repeat(self, index):
        """The same row typed twice (a list merged from two sheets)."""
        original = self.truth[index]
        self.rows.append(list(self.rows[index]))
        first_row = len(self.title_rows) + 2
        kinds = [k for k in original.kinds if k != "clean"] + ["duplicate_row"]
        self.truth.append(
            Row(self.filename, first_row + len(self.rows) - 1, original.fid, kinds, original.name, original.code)
        )

    def write(self, trailer=()):
        path = Path(self.out) / self.filename
        if path.suffix == ".csv":
            with path.open("w", encoding="gbk", errors="replace", newline="") as fh:
                writer = csv.writer(fh)
                for title in self.title_rows:
                    writer.writerow(title)
                writer.writerow(self.header)
                writer.writerows(self.rows)
                writer.writerows(trailer)
        else:
            wb = openpyxl.Workbook(write_only=True)
            ws = wb.create_sheet("Sheet1")
            for title in self.title_rows:
                ws.append(title)
            ws.append(self.header)
            for values in self.rows:
                ws.append(values)
            for values in trailer:
                ws.append(values)
            wb.save(path)
        return path


def _for_csv(text):
    """CSV files go out in GBK, as the field's do, so the name is what GBK can hold; a line break inside a
    cell would shift the CSV's text lines, which are its row numbers, so it becomes a space."""
    return text.replace("\n", " ").encode("gbk", errors="replace").decode("gbk")


def generate(out, seed=1, size=3000):
    """Write the seven files into `out` with `truth.json`; return the truth as a dict."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    county = County(seed=seed, size=size)
    render = Renderer(county)
    rng = county.rng
    firms = county.firms
    files, writers = [], []
    place = "庆阳市" if county.city else "合水县"

    def industry_text(firm, style):
        trade = TRADE_BY_WORD[firm.trade]
        if style == "code":
            return trade.industry
        if style == "both":
            return f"{trade.industry} {trade.industry_name}"
        return trade.industry_name

    def listed(share, pool=firms):
        return [f for f in pool if rng.random() < share]

    # 1. The city's base list: most firms, codes mostly present, two title rows and a totals row.
    w = Writer(
        out,
        "市级下发基础数据库.xlsx",
        ["序号", "单位名称", "统一社会信用代码", "注册地址", "所属乡镇", "行业", "职工人数", "接害人数", "经营状态"],
        [[f"{place}可能存在职业病危害用人单位基础数据库（2024年）"], ["填报单位：庆阳市卫生健康委员会"]],
    )
    for firm in listed(0.68):
        name, code, township, kinds = render.row(firm, REGISTER)
        w.add(
            [
                len(w.rows) + 1,
                name,
                code,
                f"{firm.county}{firm.township}",
                township,
                industry_text(firm, "name"),
                firm.workers,
                firm.exposed,
                "在业",
            ],
            firm.fid,
            kinds + firm.kinds,
            name,
            code,
        )
    w.write(trailer=[["合计", f"{len(w.rows)}家"]])
    writers.append(w)
    files.append(SourceFile("register", w.filename, noise=["title_rows", "totals_row"]))

    # 2a. 市场监管: companies and individual businesses with their codes; the most complete on codes.
    w = Writer(
        out,
        "市场监管局名单.xlsx",
        ["企业名称", "统一社会信用代码", "住所", "所属乡镇", "行业", "从业人数", "经营状态", "登记机关"],
    )
    for firm in listed(0.45, [f for f in firms if not f.institution_name]):
        name, code, township, kinds = render.row(firm, MARKET)
        w.add(
            [
                name,
                code,
                f"{firm.county}{firm.township}",
                township,
                industry_text(firm, "both"),
                firm.workers,
                "存续",
                f"{firm.county}市场监督管理局",
            ],
            firm.fid,
            kinds + firm.kinds,
            name,
            code,
        )
        if rng.random() < 0.01:
            w.add_repeat(len(w.rows) - 1)
    w.write()
    writers.append(w)
    files.append(SourceFile("department", w.filename, department="市场监管"))

    # 2b. 应急管理: an older register of industrial firms, in GBK CSV, with no code column at all.
    industrial = [f for f in firms if "06" <= TRADE_BY_WORD[f.trade].industry[:2] <= "46"]
    w = Writer(out, "应急管理局工贸企业名单.csv", ["序号", "单位名称", "所在乡镇", "行业类别", "职工人数"])
    for firm in listed(0.3, industrial):
        name, code, township, kinds = render.row(firm, SAFETY)
        name = _for_csv(name)
        w.add(
            [len(w.rows) + 1, name, township, industry_text(firm, "name"), firm.workers],
            firm.fid,
            kinds + firm.kinds,
            name,
            "",
        )
    w.write()
    writers.append(w)
    files.append(SourceFile("department", w.filename, department="应急管理", noise=["gbk_csv", "no_code_column"]))

    # 3. Enforcement findings: a few firms, typed by inspectors.
    w = Writer(
        out,
        "执法发现单位.xlsx",
        ["单位名称", "统一社会信用代码", "所属乡镇", "行业", "接害人数", "接触危害因素", "发现日期"],
        [["2025年职业卫生监督执法发现单位登记表"]],
    )
    for firm in listed(0.05):
        name, code, township, kinds = render.row(firm, ENFORCEMENT)
        trade = TRADE_BY_WORD[firm.trade]
        w.add(
            [
                name,
                code,
                township,
                industry_text(firm, "name"),
                firm.exposed,
                "、".join(trade.factors[:2]),
                _date(rng).isoformat(),
            ],
            firm.fid,
            kinds + firm.kinds,
            name,
            code,
        )
    w.write()
    writers.append(w)
    files.append(SourceFile("enforcement", w.filename, noise=["title_rows"]))

    # 4. Exam export: one row per worker; each exam batch (firm, institution, date) writes the firm one way.
    w = Writer(
        out,
        "职业健康检查个案卡导出.xlsx",
        [
            "体检编号",
            "用人单位名称",
            "统一社会信用代码",
            "所属乡镇",
            "姓名",
            "性别",
            "身份证号",
            "接触危害因素",
            "体检类别",
            "体检日期",
            "体检结论",
            "体检机构",
        ],
    )
    serial = 0
    for firm in [f for f in firms if "exam" in f.evidence]:
        trade = TRADE_BY_WORD[firm.trade]
        for _ in range(1 if rng.random() < 0.7 else 2):
            name, code, township, kinds = render.row(firm, EXAM)
            institution, when = rng.choice(INSTITUTIONS), _date(rng)
            examined = max(1, min(firm.exposed, int(firm.exposed * rng.uniform(0.3, 0.8)), 40))
            for _ in range(examined):
                serial += 1
                birth = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
                person = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
                w.add(
                    [
                        f"TJ{when:%Y}{serial:06d}",
                        name,
                        code,
                        township,
                        person,
                        rng.choice("男男女"),
                        id_number(rng, "621024", birth),
                        rng.choice(trade.factors),
                        rng.choice(EXAM_CATEGORIES),
                        when.isoformat(),
                        rng.choice(CONCLUSIONS),
                        institution,
                    ],
                    firm.fid,
                    kinds + firm.kinds,
                    name,
                    code,
                )
    w.write()
    writers.append(w)
    files.append(SourceFile("exam", w.filename, noise=["per_worker_rows"]))

    # 5. Workplace monitoring: one row per hazard factor tested, GBK CSV from the monitoring system.
    w = Writer(
        out,
        "工作场所职业病危害因素监测.csv",
        ["用人单位名称", "统一社会信用代码", "所属乡镇", "危害因素", "检测点数", "超标点数", "检测日期", "检测机构"],
    )
    for firm in [f for f in firms if "monitoring" in f.evidence]:
        trade = TRADE_BY_WORD[firm.trade]
        name, code, township, kinds = render.row(firm, MONITORING)
        name = _for_csv(name)
        when = _date(rng)
        for factor in rng.sample(trade.factors, rng.randint(1, len(trade.factors))):
            points = rng.randint(1, 12)
            w.add(
                [
                    name,
                    code,
                    township,
                    factor,
                    points,
                    rng.choice([0, 0, 0, 1, 2]) if points > 2 else 0,
                    when.isoformat(),
                    "甘肃某职业卫生技术服务有限公司",
                ],
                firm.fid,
                kinds + firm.kinds,
                name,
                code,
            )
    w.write()
    writers.append(w)
    files.append(SourceFile("monitoring", w.filename, noise=["gbk_csv"]))

    # 6. Radiation testing: one row per device, with the report's title rows.
    w = Writer(
        out,
        "放射卫生检测汇总.xlsx",
        ["序号", "单位名称", "统一社会信用代码", "所属乡镇", "设备名称", "检测日期", "检测结论", "检测机构"],
        [["放射诊疗设备及放射源检测结果汇总表"], ["统计时段：2024年1月—2025年12月", None, None, "单位：台"]],
    )
    for firm in [f for f in firms if "radiation" in f.evidence]:
        name, code, township, kinds = render.row(firm, RADIATION)
        devices = DEVICES.get(firm.trade, ["X射线机"])
        for device in rng.sample(devices, rng.randint(1, len(devices))):
            w.add(
                [
                    len(w.rows) + 1,
                    name,
                    code,
                    township,
                    device,
                    _date(rng).isoformat(),
                    rng.choice(["合格", "合格", "合格", "不合格"]),
                    "甘肃省疾病预防控制中心",
                ],
                firm.fid,
                kinds + firm.kinds,
                name,
                code,
            )
    w.write()
    writers.append(w)
    files.append(SourceFile("radiation", w.filename, noise=["title_rows"]))

    # 7. The declaration system's export: one row per declaration (初次申报, then 年度更新, 变更申报).
    w = Writer(
        out,
        "职业病危害项目申报系统导出.xlsx",
        [
            "序号",
            "用人单位名称",
            "统一社会信用代码",
            "所属乡镇",
            "行业",
            "在册职工总数",
            "接害总人数",
            "接触危害因素",
            "申报类型",
            "申报日期",
            "回执编号",
        ],
        [[f"{place}职业病危害项目申报情况一览表"]],
    )
    for firm in [f for f in firms if f.declared]:
        trade = TRADE_BY_WORD[firm.trade]
        first = _date(rng, date(2023, 1, 1), date(2024, 12, 31))
        for n, kind in enumerate(["初次申报"] + ["年度更新"] * rng.randint(0, 1) + ["变更申报"] * (rng.random() < 0.1)):
            name, code, township, kinds = render.row(firm, DECLARATION)
            when = min(first + timedelta(days=365 * n + rng.randint(-20, 20)), date(2025, 12, 31))
            w.add(
                [
                    len(w.rows) + 1,
                    name,
                    code,
                    township,
                    industry_text(firm, "code"),
                    firm.workers,
                    firm.exposed,
                    "、".join(trade.factors),
                    kind,
                    when.isoformat(),
                    f"HZ{when:%Y}{len(w.rows) + 1:05d}",
                ],
                firm.fid,
                kinds + firm.kinds,
                name,
                code,
            )
    w.write()
    writers.append(w)
    files.append(SourceFile("declaration", w.filename, noise=["title_rows"]))

    truth = {
        "seed": seed,
        "size": size,
        "files": [asdict(f) for f in files],
        "firms": {
            f.fid: {
                "name": f.name,
                "code": f.code,
                "former": f.former,
                "kinds": f.kinds,
                "declared": f.declared,
                "evidence": f.evidence,
                "parent": f.parent,
                "lookalike": f.lookalike,
            }
            for f in firms
        },
        "rows": [asdict(r) for w in writers for r in w.truth],
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False))
    return truth


def undeclared_truth(truth):
    """Firms with exam, monitoring or radiation evidence in the files and no declaration: those the undeclared
    list should show. Only evidence that reached a file counts (every evidence firm has rows by construction)."""
    return {fid for fid, firm in truth["firms"].items() if firm["evidence"] and not firm["declared"]}
