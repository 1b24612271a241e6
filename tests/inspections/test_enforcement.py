"""执法记录: recorded per employer (optionally from a visit), open orders raise the employer in the work list."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from inspections import services
from inspections.models import Enforcement
from tests.builders import industry, make_assignment, make_declaration, make_employer, make_visit

D = datetime.date
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def post_enforcement(client, employer, **fields):
    data = {"employer": employer.pk, "date": "2025-05-01", "document_no": "合卫职罚〔2025〕1号", **fields}
    return client.post(reverse("inspections:enforcement_create"), data)


def test_an_order_is_recorded_from_a_visit_with_its_document(as_user, cast):
    employer = make_employer()
    visit = make_visit(employer)
    client = as_user(cast.cdc)
    form = client.get(reverse("inspections:enforcement_create"), {"employer": employer.pk, "visit": visit.pk})
    assert "改正期限" in form.content.decode() and form.context["form"]["visit"].value() == str(visit.pk)
    scan = SimpleUploadedFile("责令改正通知书.png", PNG, content_type="image/png")
    response = post_enforcement(
        client, employer, action="责令限期改正", deadline="2025-05-31", visit=visit.pk, files=scan
    )
    order = Enforcement.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert (order.visit, order.deadline, order.created_by, order.attachments.count()) == (
        visit,
        D(2025, 5, 31),
        cast.cdc,
        1,
    )
    page = client.get(order.get_absolute_url()).content.decode()
    assert "合卫职罚〔2025〕1号" in page and "尚未整改" in page and "责令改正通知书" in page
    timeline = client.get(employer.get_absolute_url()).content.decode()
    assert "责令限期改正（合卫职罚〔2025〕1号），期限 2025-05-31，未整改" in timeline


def test_bad_records_are_refused_with_chinese_messages_and_nothing_saved(as_user, cast):
    employer, other = make_employer(), make_employer()
    client = as_user(cast.cdc)
    errors = post_enforcement(client, employer, action="责令限期改正").context["form"].errors
    assert errors["deadline"] == ["责令限期改正须填写改正期限。"]
    errors = post_enforcement(client, employer, action="罚款").context["form"].errors
    assert errors["amount"] == ["罚款须填写金额。"]
    errors = post_enforcement(client, employer, action="警告", date="2099-01-01").context["form"].errors
    assert errors["date"] == ["日期不能晚于今天。"]
    foreign = make_visit(other)
    errors = post_enforcement(client, employer, action="警告", visit=foreign.pk).context["form"].errors
    assert "visit" in errors
    assert not Enforcement.objects.exists()


def test_a_fine_is_shown_with_its_amount(as_user, cast):
    employer = make_employer()
    post_enforcement(as_user(cast.cdc), employer, action="罚款", amount="20000")
    page = as_user(cast.bureau).get(reverse("inspections:enforcement_list")).content.decode()
    assert "罚款" in page and "20000.00" in page


def test_an_inspector_records_only_for_assigned_employers(as_user, cast):
    mine, other = make_employer(), make_employer()
    make_assignment(cast.inspector, employer=mine)
    client = as_user(cast.inspector)
    assert post_enforcement(client, mine, action="警告").status_code == 302
    assert post_enforcement(client, other, action="警告").status_code == 403
    assert Enforcement.objects.count() == 1


def order(employer, deadline, **fields):
    return Enforcement.objects.create(
        employer=employer, action="责令限期改正", date=D(2025, 1, 1), document_no="令1", deadline=deadline, **fields
    )


def test_an_order_past_its_deadline_comes_first_in_the_work_list_until_corrected(as_user, cast):
    today = timezone.localdate()
    first = make_employer(name="甲严重行业未申报", workers=50, exposed_workers=20)  # the usual top priority
    declared = make_employer(name="乙已申报但被责令改正")
    make_declaration(declared, declared_on=today - datetime.timedelta(days=30))
    made = order(declared, deadline=today - datetime.timedelta(days=1))
    not_due = make_employer(name="丙期限未到", industry=industry("5191"))
    order(not_due, deadline=today + datetime.timedelta(days=10))
    client = as_user(cast.cdc)

    rows = list(client.get(reverse("inspections:work_list")).context["page"])
    assert [(e.name, e.priority) for e in rows] == [(declared.name, 0), (first.name, 1), (not_due.name, 3)]
    assert "限期改正到期未整改" in client.get(reverse("inspections:work_list")).content.decode()

    response = client.post(reverse("inspections:enforcement_correct", args=[made.pk]), {"corrected_on": str(today)})
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.corrected_on == today
    names = [e.name for e in client.get(reverse("inspections:work_list")).context["page"]]
    assert declared.name not in names and names[0] == first.name


def test_closing_twice_or_in_the_future_is_refused(as_user, cast):
    made = order(make_employer(), deadline=D(2025, 2, 1))
    client = as_user(cast.cdc)
    future = timezone.localdate() + datetime.timedelta(days=3)
    messages = client.post(
        reverse("inspections:enforcement_correct", args=[made.pk]), {"corrected_on": str(future)}, follow=True
    ).content.decode()
    assert "整改完成日期不能晚于今天" in messages
    client.post(reverse("inspections:enforcement_correct", args=[made.pk]), {"corrected_on": "2025-02-01"})
    again = client.post(
        reverse("inspections:enforcement_correct", args=[made.pk]), {"corrected_on": "2025-02-02"}, follow=True
    ).content.decode()
    assert "该记录不是尚未整改的责令限期改正" in again


def test_figures_for_a_period(db):
    employer = make_employer()
    order(employer, deadline=D(2025, 2, 1))  # open at the end
    order(employer, deadline=D(2025, 4, 1), corrected_on=D(2025, 3, 1))  # corrected within
    Enforcement.objects.create(employer=employer, action="罚款", date=D(2025, 2, 10), document_no="罚1", amount=5000)
    Enforcement.objects.create(employer=employer, action="警告", date=D(2024, 12, 31), document_no="警1")  # before
    figures = services.enforcement_figures(D(2025, 1, 1), D(2025, 3, 31))
    assert dict(figures["by_action"]) == {"责令限期改正": 2, "警告": 0, "罚款": 1, "立案": 0, "结案": 0}
    assert (figures["employers"], figures["fines"], figures["open_orders"], figures["overdue_orders"]) == (
        1,
        5000,
        1,
        1,
    )
