import io

from django.urls import reverse
from openpyxl import load_workbook

from reports.models import Submission
from tests.builders import make_employer


def test_the_cdc_submits_a_frozen_snapshot_of_the_confirmed_register(county, cast, as_user, eager_tasks):
    client = as_user(cast.cdc)
    response = client.post(reverse("reports:submission_create"), {"quarter": "2025Q1", "note": "一季度"}, follow=True)

    assert "正在后台冻结2025年第一季度名单报送的名单文件" in response.content.decode()
    submission = Submission.objects.get()
    assert submission.status == Submission.Status.DONE, submission.message
    assert (submission.submitted_by, submission.employer_count, submission.declared_count) == (cast.cdc, 4, 2)
    make_employer(name="后来纳入的单位")  # later changes leave the submitted file as it was
    as_bureau = as_user(cast.bureau)
    assert "一季度" in as_bureau.get(reverse("reports:submissions")).content.decode()
    download = as_bureau.get(reverse("reports:submission_download", args=[submission.pk]))
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.iter_rows(values_only=True))
    assert len(rows) == 1 + 4
    assert "后来纳入的单位" not in {row[1] for row in rows}


def test_an_empty_register_cannot_be_submitted(cast, as_user, eager_tasks):
    response = as_user(cast.cdc).post(reverse("reports:submission_create"), {"quarter": "2025Q1"}, follow=True)

    assert "名单中还没有已纳入的用人单位，无法报送。" in response.content.decode()
    assert not Submission.objects.exists()
