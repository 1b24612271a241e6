import datetime

import pytest
from django.core.exceptions import ValidationError

from outreach.models import OutreachTarget, Training, TrainingAttendance
from outreach.services import (
    outreach_figures,
    parse_attendance,
    record_event,
    record_training,
    resolve_employers,
    sign_off,
)
from tests.builders import make_declaration, make_employer, make_event

D = datetime.date


def test_it_counts_outreach_figures_for_a_period(db):
    a, b, c = make_employer(), make_employer(), make_employer()
    event = make_event([a, b], date=D(2025, 4, 1))
    OutreachTarget.objects.filter(event=event, employer=a).update(signed_on=D(2025, 4, 3), signer="张三")
    make_event([c], date=D(2024, 12, 1))
    training = Training.objects.create(date=D(2025, 4, 10), place="县疾控中心")
    TrainingAttendance.objects.create(training=training, employer=c, persons=3)
    TrainingAttendance.objects.create(training=training, employer=a, persons=2)

    make_event([], kind="安康杯竞赛", date=D(2025, 5, 1))
    figures = outreach_figures(D(2025, 1, 1), D(2025, 6, 30))
    by_kind = dict(figures.pop("by_kind"))
    assert figures == {
        "events": 2,
        "notices": 2,
        "signoffs": 1,
        "trainings": 1,
        "attendees": 5,
        "employers_reached": 3,
    }
    # Every form is listed, in the order of the event form, the plan's publicity kinds among them.
    assert by_kind["告知单发放"] == 1 and by_kind["“安康杯”竞赛"] == 1 and by_kind["职业健康知识“五进”活动"] == 0
    assert outreach_figures(D(2023, 1, 1), D(2023, 12, 31))["attendees"] == 0


def test_it_marks_undeclared_targets_notified_but_keeps_a_refusal(cast):
    open_one = make_employer()
    refused = make_employer(open_reason="拒不申报", open_reason_on=D(2025, 1, 1))
    declared = make_employer()
    make_declaration(declared)
    record_event(
        kind="告知单发放", date=D(2025, 4, 1), description="", user=cast.cdc, employers=[open_one, refused, declared]
    )
    open_one.refresh_from_db()
    refused.refresh_from_db()
    declared.refresh_from_db()
    assert (open_one.open_reason, open_one.open_reason_on) == ("已告知待申报", D(2025, 4, 1))
    assert refused.open_reason == "拒不申报"
    assert declared.open_reason == ""
    assert open_one.history.first().history_change_reason == "告知动员"


def test_it_refuses_a_future_event_and_saves_nothing(cast):
    with pytest.raises(ValidationError, match="不能晚于今天"):
        record_event(kind="微信群", date=D(2999, 1, 1), description="", user=cast.cdc, employers=[make_employer()])
    assert not OutreachTarget.objects.exists()


def test_it_refuses_a_sign_off_before_the_event(cast):
    event = make_event([make_employer()], date=D(2025, 4, 1))
    target = event.targets.get()
    with pytest.raises(ValidationError, match="不能早于活动日期"):
        sign_off(target, signed_on=D(2025, 3, 1), signer="张三", user=cast.cdc)
    sign_off(target, signed_on=D(2025, 4, 2), signer="张三", user=cast.cdc)
    target.refresh_from_db()
    assert (target.delivered, target.signer) == (True, "张三")


def test_it_resolves_a_pasted_list_by_code_name_and_alias(db):
    by_code = make_employer()
    by_name = make_employer(name="合水县子午建材有限公司")
    by_alias = make_employer()
    by_alias.aliases.create(name="合水县老名字厂")
    text = f"{by_code.code.lower()}\n合水县子午建材有限公司\t备注\n合水县老名字厂\n\n没有这家公司\n{by_code.code}"
    found, missing = resolve_employers(text)
    assert found == [by_code, by_name, by_alias]
    assert missing == ["没有这家公司"]


def test_it_records_a_training_from_pasted_attendance(cast):
    employer = make_employer(name="合水县子午建材有限公司")
    rows, errors = parse_attendance("合水县子午建材有限公司，3\n不存在的公司 2")
    assert errors == ["第2行：找不到用人单位“不存在的公司”。"]
    training = record_training(
        date=D(2025, 4, 1), place="县疾控中心", topics=["申报程序"], description="", user=cast.cdc, attendance=rows
    )
    assert training.attendance.get().persons == 3
    employer.refresh_from_db()
    assert employer.open_reason == "已告知待申报"


def test_an_upload_must_be_an_image_or_pdf_by_content_and_by_name():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from hezuo_shenbao.lib.uploads import validate_upload

    validate_upload(SimpleUploadedFile("scan.PDF", b"%PDF-1.7\n"))
    validate_upload(SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0rest"))
    for name, content in [("page.html", b"\x89PNG\r\n\x1a\n<script>"), ("photo.jpg", b"<svg onload=x>")]:
        with pytest.raises(ValidationError, match="不是图片"):
            validate_upload(SimpleUploadedFile(name, content))
