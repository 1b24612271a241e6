"""双随机: employers from the whole confirmed register, inspectors drawn too, the draw kept and printable."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from inspections.models import SampleInspector, VerificationSample
from inspections.services import draw_sample
from tests.builders import industry, make_assignment, make_declaration, make_employer, township


def drawn(sample):
    return [(d.employer_id, d.inspector_id) for d in sample.draws.all()]


def test_undeclared_employers_are_drawn_too_and_closed_ones_are_not(cast):
    undeclared = [make_employer() for _ in range(3)]
    declared = make_employer()
    make_declaration(declared)
    make_employer(operating_status="注销")
    make_employer(register_status="待确认")
    sample = draw_sample(10, 5, cast.cdc)
    assert set(sample.employers.all()) == {*undeclared, declared}
    assert (sample.size, sample.population) == (4, 4)


def test_the_draw_can_be_limited_to_a_class(cast):
    high = make_employer(industry=industry("1120"), exposed_workers=5)  # 丙 while undeclared
    low = make_employer(industry=industry("5191"), exposed_workers=5)
    make_declaration(low)  # Ⅰ × A = 甲
    sample = draw_sample(5, 1, cast.cdc, supervision_class="甲")
    assert list(sample.employers.all()) == [low] and high


def test_the_same_seed_draws_the_same_employers_and_inspectors(cast):
    for _ in range(8):
        make_employer()
    first, again = draw_sample(3, 42, cast.cdc), draw_sample(3, 42, cast.cdc)
    assert drawn(first) == drawn(again) and len(drawn(first)) == 6
    assert {i for _, i in drawn(first)} == {cast.inspector.pk, cast.inspector2.pk}


def test_an_inspector_is_never_drawn_for_employers_assigned_to_them(cast):
    mine = [make_employer() for _ in range(4)]  # all in 西华池镇
    make_assignment(cast.inspector)  # 李强 has the township
    sample = draw_sample(4, 3, cast.cdc, inspectors=1)
    assert {i for _, i in drawn(sample)} == {cast.inspector2.pk}
    with pytest.raises(ValidationError) as error:
        draw_sample(4, 3, cast.cdc, inspectors=2)
    assert "不分管该单位的在岗监督员只有 1 人，不足每家 2 人" in error.value.messages[0]
    assert VerificationSample.objects.count() == 1 and mine


def test_the_draw_sheet_prints_names_and_beijing_time(as_user, cast):
    other = make_employer(name="合水县老城砖厂", township=township("老城镇"))
    make_assignment(cast.inspector2, "老城镇")
    client = as_user(cast.cdc)
    response = client.post(reverse("inspections:samples"), {"size": 1, "seed": 9, "inspectors": 1})
    sample = VerificationSample.objects.get()
    assert response.url == sample.get_absolute_url()
    page = client.get(sample.get_absolute_url()).content.decode()
    local = timezone.localtime(sample.created_at)  # settings.TIME_ZONE, Asia/Shanghai
    assert other.name in page and "李强" in page and "赵刚" not in page and "liqiang" not in page
    assert f"{local:%Y}年{local.month}月{local.day}日 {local:%H:%M}" in page and "<code>9</code>" in page
    assert "张敏" in page and SampleInspector.objects.get().inspector == cast.inspector
