"""疑似重复单位 as the CDC meets them: found after an import, merged or kept apart on their page, a pair
kept apart never proposed again; linked from the review page and the 工作台."""

from django.urls import reverse

from employers.models import Employer, Industry
from matching import duplicates
from matching.models import DuplicatePair
from tests.builders import make_employer, township, valid_code

from .files import write
from .test_imports import run_import


def _mistyped(code):
    """The code with one character changed, failing its check."""
    return code[:10] + ("1" if code[10] != "1" else "2") + code[11:]


def _pairs():
    return {frozenset((p.first_id, p.second_id)): p for p in DuplicatePair.objects.all()}


def test_an_import_finds_the_three_kinds_and_never_two_registered_firms(db, tmp_path):
    right = make_employer(name="合水县宏达建材有限公司", code=valid_code(101))
    typo = make_employer(name="合水县宏大建筑材料厂", code=_mistyped(valid_code(101)))
    renamed = make_employer(name="合水县新名称商贸有限公司", code=valid_code(102))
    renamed.aliases.create(name="合水县旧名称商贸有限公司")
    old_name = make_employer(name="合水县旧名称商贸有限公司", code="")
    general = Industry.objects.filter(level=4, risk="一般").first()
    homophone = make_employer(name="合水县安明机械加工厂", code="", township=township("老城镇"), industry=general)
    twin = make_employer(name="合水县按明机械加工厂", code="", township=township("老城镇"), industry=general)
    # Look-alike firms: each with its own valid code, or the facts disagreeing.
    make_employer(name="合水县通荣运输有限公司", code=valid_code(103))
    make_employer(name="合水县通融运输有限公司", code=valid_code(104))
    make_employer(name="合水县博源砖厂", code="", township=township("老城镇"), industry=general)
    make_employer(name="合水县博原砖厂", code="", township=township("西华池镇"), industry=general)
    rows = [["合水县某某有限公司", valid_code(105), "西华池镇", "2025-05-01"]]
    run_import("monitoring", write(tmp_path / "监测.xlsx", ["单位名称", "信用代码", "乡镇", "检测日期"], rows))

    pairs = _pairs()
    assert set(pairs) == {
        frozenset((right.pk, typo.pk)),
        frozenset((renamed.pk, old_name.pk)),
        frozenset((homophone.pk, twin.pk)),
    }
    assert pairs[frozenset((right.pk, typo.pk))].reason == "code"
    assert pairs[frozenset((renamed.pk, old_name.pk))].reason == "former"
    assert pairs[frozenset((homophone.pk, twin.pk))].reason == "sound"


def test_the_cdc_merges_a_pair_or_keeps_it_apart_for_good(cast, as_user):
    right = make_employer(name="合水县宏达建材有限公司", code=valid_code(111))
    typo = make_employer(name="合水县宏大建材有限公司", code=_mistyped(valid_code(111)))
    general = Industry.objects.filter(level=4, risk="一般").first()
    a = make_employer(name="合水县安明机械加工厂", code="", industry=general)
    b = make_employer(name="合水县按明机械加工厂", code="", industry=general)
    assert duplicates.find() == 2
    client = as_user(cast.cdc)
    review_page = client.get(reverse("matching:review")).content.decode()
    assert "疑似重复单位（2 对待判断）" in review_page
    workbench = client.get(reverse("workbench")).content.decode()
    assert 'data-waiting="duplicates"' in workbench and reverse("matching:duplicates") in workbench
    page = client.get(reverse("matching:duplicates")).content.decode()
    assert "信用代码相差一位" in page and "「安明机械加工」与「按明机械加工」读音相同" in page

    code_pair = DuplicatePair.objects.get(reason="code")
    client.post(reverse("matching:duplicate_decide", args=[code_pair.pk]), {"keep": right.pk})
    assert not Employer.objects.filter(pk=typo.pk).exists()
    assert right.aliases.filter(name="合水县宏大建材有限公司").exists()
    assert "疑似重复单位" in right.history.first().history_change_reason
    assert not DuplicatePair.objects.filter(pk=code_pair.pk).exists()

    sound_pair = DuplicatePair.objects.get(reason="sound")
    response = client.post(reverse("matching:duplicate_decide", args=[sound_pair.pk]), {"keep": "apart"}, follow=True)
    assert "不是同一单位，不会再次提出" in response.content.decode()
    assert Employer.objects.filter(pk__in=[a.pk, b.pk]).count() == 2
    assert duplicates.find() == 0
    page = client.get(reverse("matching:duplicates")).content.decode()
    assert 'id="pairs-left">0<' in page
    response = client.post(reverse("matching:duplicate_decide", args=[sound_pair.pk]), {"keep": a.pk}, follow=True)
    assert "已经判断过了" in response.content.decode() and Employer.objects.filter(pk=b.pk).exists()
