"""疑似已申报 (issue 16, item 4): an undeclared employer with evidence that looks like a declared one waits for a
person on the undeclared page, apart from the list and its figures, until confirmed (merged) or dismissed."""

import csv
import datetime
import io

import openpyxl
from django.core.management import call_command
from django.urls import reverse

from employers.models import DeclaredLookalike, Employer
from matching.models import ImportBatch, SourceRecord
from tests.builders import make_declaration, make_employer, valid_code


def _with_exam(employer):
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256=f"{employer.pk:064d}")
    SourceRecord.objects.create(
        batch=batch,
        kind="exam",
        row_number=3,
        name=employer.name,
        name_norm=employer.name,
        employer=employer,
        link_status="new",
        record_date=datetime.date(2025, 3, 1),
        data={"examined": 4, "rows": [3]},
    )
    return employer


def _pair():
    declared = make_employer(name="合水县恒通建材有限公司", code=valid_code(41))
    make_declaration(declared)
    # Its exam records founded an employer of their own: 字号 typed by sound, the legal form another.
    twin = _with_exam(make_employer(name="恒同建材厂", code=""))
    call_command("crossref", stdout=io.StringIO())
    return declared, twin


def _export(tmp_path):
    out = tmp_path / "undeclared.csv"
    call_command("export_undeclared", str(out), stdout=io.StringIO())
    return list(csv.DictReader(out.open(encoding="utf-8-sig")))


def test_a_near_miss_waits_apart_from_the_list_its_figure_and_its_export(cast, as_user, tmp_path, exported):
    declared, twin = _pair()
    other = _with_exam(make_employer(name="合水县兴盛砖瓦有限公司", code=valid_code(42)))
    call_command("crossref", stdout=io.StringIO())
    assert list(Employer.objects.undeclared_with_evidence()) == [other]
    assert list(Employer.objects.suspected_declared()) == [twin]
    page = as_user(cast.bureau).get(reverse("matching:undeclared")).content.decode()
    listed, suspected = page.split('id="suspected-title"')
    assert other.name in listed and twin.name not in listed
    assert twin.name in suspected and declared.name in suspected and "名称读音相同" in suspected
    assert "疑似已申报（1 家待确认）" in page and "是同一单位（合并）" not in page  # the bureau reads only
    # The employer list a figure opens counts it apart too.
    listing = as_user(cast.cdc).get(reverse("employers:list"), {"evidence": "1", "declared": "never"})
    assert other.name in listing.content.decode() and twin.name not in listing.content.decode()
    lines = _export(tmp_path)
    assert [line["employer_id"] for line in lines] == [str(other.pk), str(twin.pk)]
    assert [line["疑似已申报单位编号"] for line in lines] == ["", str(declared.pk)]
    sheet = openpyxl.load_workbook(io.BytesIO(exported(as_user(cast.cdc), "undeclared").getvalue()))
    assert [row[-1] for row in sheet.active.iter_rows(min_row=2, values_only=True)] == [None, declared.pk]


def test_dismissed_it_is_listed_and_never_proposed_again(cast, as_user, tmp_path):
    declared, twin = _pair()
    pair = DeclaredLookalike.objects.get()
    client = as_user(cast.cdc)
    response = client.post(reverse("matching:lookalike", args=[pair.pk]), {"same": "0"}, follow=True)
    assert "列回有记录未申报清单" in response.content.decode()
    call_command("crossref", stdout=io.StringIO())
    assert list(Employer.objects.undeclared_with_evidence()) == [twin]
    assert not Employer.objects.suspected_declared().exists()
    assert [line["疑似已申报单位编号"] for line in _export(tmp_path)] == [""]


def test_confirmed_it_is_merged_into_the_declared_employer(cast, as_user):
    declared, twin = _pair()
    pair = DeclaredLookalike.objects.get()
    as_user(cast.cdc).post(reverse("matching:lookalike", args=[pair.pk]), {"same": "1"})
    assert not Employer.objects.filter(pk=twin.pk).exists()
    assert SourceRecord.objects.get().employer == declared
    assert declared.aliases.filter(name="恒同建材厂").exists()
    assert not Employer.objects.undeclared().with_evidence().exists() and not DeclaredLookalike.objects.exists()


def test_a_firm_with_its_own_valid_code_is_not_suspected(db):
    make_declaration(make_employer(name="合水县恒通建材有限公司", code=valid_code(43)))
    own = _with_exam(make_employer(name="合水县恒通建材厂", code=valid_code(44)))
    call_command("crossref", stdout=io.StringIO())
    assert list(Employer.objects.undeclared_with_evidence()) == [own]


def test_another_brand_or_a_look_alike_firm_is_not_suspected(db):
    make_declaration(make_employer(name="合水县丰宝石油技术服务有限公司", code=valid_code(45)))
    make_declaration(make_employer(name="合水县永荣养殖厂", code=valid_code(46)))
    # Another 字号 sharing a long trade; the same 字号 and trade under another region and legal form.
    brand = _with_exam(make_employer(name="合水县丰东石油技术服务有限公司", code=""))
    look_alike = _with_exam(make_employer(name="甘肃永荣养殖股份有限公司", code=""))
    call_command("crossref", stdout=io.StringIO())
    assert set(Employer.objects.undeclared_with_evidence()) == {brand, look_alike}


def test_a_firm_of_another_county_or_a_look_alike_under_another_form_is_not_suspected(db):
    make_declaration(make_employer(name="合水县恒通建材有限公司", code=valid_code(47)))
    make_declaration(make_employer(name="甘肃永荣养殖股份有限公司", code=valid_code(48)))
    # 环县 and 合水县 are two counties; 庆阳…有限公司 and 甘肃…股份有限公司 two firms of one 字号 and trade.
    county = _with_exam(make_employer(name="环县恒同建材有限公司", code=""))
    look_alike = _with_exam(make_employer(name="庆阳永荣养殖有限公司", code=""))
    call_command("crossref", stdout=io.StringIO())
    assert set(Employer.objects.undeclared_with_evidence()) == {county, look_alike}


def test_a_declaration_with_a_mistyped_code_is_found_by_it(db):
    code = valid_code(49)
    declared = make_employer(
        name="合水县丰鑫钢结构有限公司", code=code[:9] + ("J" if code[9] != "J" else "K") + code[10:]
    )
    make_declaration(declared)
    # The evidence names the firm by its former name, with the right code: one character from the declaration's.
    former = _with_exam(make_employer(name="合水县兴明钢结构有限公司", code=code))
    call_command("crossref", stdout=io.StringIO())
    assert not Employer.objects.undeclared_with_evidence().exists()
    assert (
        DeclaredLookalike.objects.get().declared == declared
        and former.pk == DeclaredLookalike.objects.get().employer_id
    )
