import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from outreach.models import OutreachEvent, Training
from tests.builders import make_employer, make_event, township

PDF = b"%PDF-1.4\n%test\n"


def test_cdc_records_an_event_from_the_register_and_a_pasted_list(cast, as_user):
    in_town = make_employer(township=township("老城镇"))
    pasted = make_employer(name="合水县子午建材有限公司")
    response = as_user(cast.cdc).post(
        reverse("outreach:event_create"),
        {
            "kind": "告知单发放",
            "date": "2025-04-01",
            "pick_township": township("老城镇").pk,
            "pick_undeclared": "on",
            "pasted": "合水县子午建材有限公司\n",
            "delivered": "on",
            "attachments": [SimpleUploadedFile("scan.pdf", PDF)],
        },
    )
    event = OutreachEvent.objects.get()
    assert response.url == event.get_absolute_url()
    assert set(event.employers.all()) == {in_town, pasted}
    assert event.attachments.count() == 1
    in_town.refresh_from_db()
    assert in_town.open_reason == "已告知待申报"


def test_a_list_with_an_unknown_name_saves_nothing(cast, as_user):
    make_employer(name="合水县子午建材有限公司")
    response = as_user(cast.cdc).post(
        reverse("outreach:event_create"),
        {"kind": "微信群", "date": "2025-04-01", "pasted": "合水县子午建材有限公司\n合水县不存在公司"},
    )
    assert "合水县不存在公司" in response.content.decode()
    assert not OutreachEvent.objects.exists()


def test_an_attachment_that_is_not_an_image_or_pdf_is_refused(cast, as_user, settings):
    client = as_user(cast.cdc)
    data = {"kind": "其他", "date": "2025-04-01"}
    fake = SimpleUploadedFile("notice.pdf", b"<html>not a pdf</html>")
    assert "不是图片" in client.post(reverse("outreach:event_create"), {**data, "attachments": [fake]}).content.decode()
    settings.FIELDWORK_UPLOAD_MAX_BYTES = 10
    big = SimpleUploadedFile("notice.pdf", PDF)
    assert "超过上限" in client.post(reverse("outreach:event_create"), {**data, "attachments": [big]}).content.decode()
    assert not OutreachEvent.objects.exists()


def test_a_future_event_is_refused(cast, as_user):
    response = as_user(cast.cdc).post(reverse("outreach:event_create"), {"kind": "其他", "date": "2999-01-01"})
    assert "不能晚于今天" in response.content.decode()
    assert not OutreachEvent.objects.exists()


def test_cdc_records_a_sign_off(cast, as_user):
    event = make_event([make_employer()], date=datetime.date(2025, 4, 1))
    target = event.targets.get()
    client = as_user(cast.cdc)
    client.post(reverse("outreach:target_sign", args=[target.pk]), {"signed_on": "2025-03-01", "signer": "张三"})
    target.refresh_from_db()
    assert target.signed_on is None
    client.post(reverse("outreach:target_sign", args=[target.pk]), {"signed_on": "2025-04-02", "signer": "张三"})
    target.refresh_from_db()
    assert target.signer == "张三"
    assert "张三" in client.get(event.get_absolute_url()).content.decode()


def test_cdc_records_a_training(cast, as_user):
    make_employer(name="合水县子午建材有限公司")
    response = as_user(cast.cdc).post(
        reverse("outreach:training_create"),
        {
            "date": "2025-04-01",
            "place": "县疾控中心",
            "topics": ["申报程序"],
            "attendance": "合水县子午建材有限公司，4",
        },
    )
    training = Training.objects.get()
    assert response.url == training.get_absolute_url()
    assert training.attendance.get().persons == 4


def test_the_notice_opens_in_word_with_the_employer_name(cast, as_user):
    employer = make_employer(name="合水县子午建材有限公司")
    response = as_user(cast.cdc).get(reverse("inspections:notice_docx", args=[employer.pk]))
    document = Document(io.BytesIO(response.getvalue()))
    assert document.paragraphs[1].text == "合水县子午建材有限公司："
    assert "职业病危害项目申报告知单" in document.paragraphs[0].text


def test_cdc_adds_targets_and_attachments_to_an_event(cast, as_user):
    event = make_event([make_employer()])
    more = make_employer(name="合水县子午建材有限公司")
    client = as_user(cast.cdc)
    client.post(reverse("outreach:event_add_targets", args=[event.pk]), {"pasted": "合水县子午建材有限公司\n"})
    assert more in event.employers.all()
    client.post(reverse("outreach:attachment_add", args=[event.pk]), {"files": [SimpleUploadedFile("a.pdf", PDF)]})
    bad = client.post(
        reverse("outreach:attachment_add", args=[event.pk]),
        {"files": [SimpleUploadedFile("a.pdf", b"PK\x03\x04zip")]},
        follow=True,
    )
    assert "不是图片" in bad.content.decode()
    assert event.attachments.count() == 1
    download = client.get(reverse("outreach:attachment_download", args=[event.attachments.get().pk]))
    assert b"".join(download.streaming_content) == PDF


def _xlsx(rows):
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile("名单.xlsx", buffer.getvalue())


def test_an_event_takes_its_employers_from_an_uploaded_list(cast, as_user):
    by_name = make_employer(name="合水县子午建材有限公司")
    by_code = make_employer()
    client = as_user(cast.cdc)
    upload = _xlsx(
        [["告知名单"], ["单位名称", "统一社会信用代码"], ["合水县子午建材有限公司", ""], ["旧名", by_code.code]]
    )
    client.post(
        reverse("outreach:event_create"),
        {"kind": "告知单发放", "date": "2025-04-01", "delivered": "on", "list_file": upload},
    )
    assert set(OutreachEvent.objects.get().employers.all()) == {by_name, by_code}

    bad = _xlsx([["单位名称"], ["合水县子午建材有限公司"], ["没有这家"]])
    response = client.post(reverse("outreach:event_create"), {"kind": "其他", "date": "2025-04-01", "list_file": bad})
    assert "第 3 行：找不到“没有这家”" in response.content.decode()
    assert OutreachEvent.objects.count() == 1


def test_cdc_prints_every_notice_of_an_event_in_one_word_file(cast, as_user):
    first, second = make_employer(name="合水县甲建材有限公司"), make_employer(name="合水县乙建材有限公司")
    event = make_event([first, second])
    client = as_user(cast.cdc)
    assert "全部告知单（Word，2 份）" in client.get(event.get_absolute_url()).content.decode()
    response = client.get(reverse("outreach:event_notices", args=[event.pk]))
    document = Document(io.BytesIO(response.getvalue()))
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.count("职业病危害项目申报告知单") == 2
    assert "合水县甲建材有限公司：" in text and "合水县乙建材有限公司：" in text
    assert len(document.tables) == 2  # each employer's facts
    assert document.element.body.xml.count('w:type="page"') == 1  # one page per notice


def test_an_event_without_employers_has_no_notices_to_print(cast, as_user):
    event = make_event([])
    response = as_user(cast.cdc).get(reverse("outreach:event_notices", args=[event.pk]), follow=True)
    assert "还没有告知对象" in response.content.decode()
