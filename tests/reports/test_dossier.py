import datetime
import io
import re
import zipfile

import pytest
from django.urls import reverse
from docx import Document

from matching.models import ImportBatch, SourceRecord
from reports import services
from reports.models import Dossier
from tests.builders import make_visit

# The pages' flow: the dossier task runs in the request that queues it (the worker path has tests of its own).
pytestmark = pytest.mark.usefixtures("eager_tasks")


def _text(data):
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend("|".join(c.text for c in row.cells) for row in table.rows)
    return "\n".join(parts)


def _built(response):
    """The dossier job a request queued; eager Celery (tests) has built it by the time the view returns."""
    assert response.status_code == 302 and response.url == reverse("reports:dossier_sample")
    job = Dossier.objects.latest("pk")
    assert job.status == "done", job.message
    return job


def test_an_employers_dossier_has_its_facts_sources_evidence_visits_and_declarations(county, cast, as_user):
    employer = county["A"]
    batch = ImportBatch.objects.create(kind="exam", file_name="2025体检汇总.xlsx", file_sha256="x", status="done")
    SourceRecord.objects.create(
        batch=batch, kind="exam", row_number=2, name=employer.name, name_norm=employer.name,
        employer=employer, record_date=datetime.date(2025, 2, 3), exposed_workers=12,
        data={"examined": 12, "exams": 13, "hazards": ["噪声", "矽尘"], "rows": [2, 3]},
    )  # fmt: skip
    make_visit(employer, cast.inspector, date=datetime.date(2025, 5, 6))
    client = as_user(cast.bureau)

    job = _built(client.post(reverse("reports:dossier", args=[employer.pk])))
    listing = client.get(reverse("reports:dossier_sample")).content.decode()
    assert f"{employer.name}抽查档案" in listing and "王芳" in listing and "wangfang" not in listing
    response = client.get(reverse("reports:dossier_download", args=[job.pk]))

    text = _text(response.getvalue())
    assert "职业病危害项目申报扩面行动抽查档案" in text
    assert "统一社会信用代码|" + employer.code in text
    assert "市级下发||2025-01-10" in text
    assert "2025体检汇总.xlsx|2025-02-03|接害人数：12；受检人数：12；体检人次：13；危害因素：噪声、矽尘" in text
    assert "入户指导" in text and "2025-05-06" in text
    assert "2025-03-01|初次申报" in text
    # Chinese labels only, no empty values shown as None, no login names.
    assert not re.search(r"[a-z_]{4,}：", text) and "None" not in text and "liqiang" not in text


def test_times_are_beijing_time(county, cast, as_user):
    # 2025-01-09 17:30 UTC is 2025-01-10 01:30 in Beijing.
    employer = county["B"]
    employer.sources.update(first_seen=datetime.datetime(2025, 1, 9, 17, 30, tzinfo=datetime.UTC))
    job = _built(as_user(cast.cdc).post(reverse("reports:dossier", args=[employer.pk])))
    text = _text(job.file.open("rb").read())
    assert "市场监管|2025-01-10" in text


def test_a_sample_of_dossiers_is_drawn_reproducibly_and_zipped_in_the_background(county, cast, as_user):
    assert services.draw_dossier_sample(2, seed=7) == services.draw_dossier_sample(2, seed=7)
    client = as_user(cast.cdc)
    job = _built(client.post(reverse("reports:dossier_sample"), {"count": 3, "seed": 7}))
    assert job.chosen == services.draw_dossier_sample(3, seed=7) and job.progress == 100
    archive = zipfile.ZipFile(io.BytesIO(client.get(reverse("reports:dossier_download", args=[job.pk])).getvalue()))
    names = archive.namelist()
    assert len([n for n in names if n.endswith(".docx")]) == 3 and "抽查名单.csv" in names


def test_a_sample_larger_than_the_register_is_refused(county, cast, as_user):
    response = as_user(cast.cdc).post(reverse("reports:dossier_sample"), {"count": 50, "seed": 1})

    assert "名单中只有4家已纳入单位，少于抽查数量50。" in response.content.decode()
    assert not Dossier.objects.exists()


def test_the_employer_page_offers_the_dossier_to_officials_only(county, cast, as_user):
    url = reverse("employers:detail", args=[county["A"].pk])
    link = reverse("reports:dossier", args=[county["A"].pk])

    assert link in as_user(cast.bureau).get(url).content.decode()
    assert link not in as_user(cast.inspector).get(url).content.decode()


def test_moments_show_in_beijing_time_on_the_timeline_and_in_the_dossier(county, cast, as_user):
    from django.utils import timezone

    from employers.models import Employer, EmployerSource
    from inspections.services import employer_timeline

    employer = county["A"]
    # 2026-12-04 17:05 UTC is 2026-12-05 01:05 in 合水 (Asia/Shanghai).
    late_evening_utc = datetime.datetime(2026, 12, 4, 17, 5, tzinfo=datetime.UTC)
    EmployerSource.objects.create(employer=employer, kind="enforcement", first_seen=late_evening_utc)
    Employer.history.filter(id=employer.pk).update(history_date=late_evening_utc)

    source = next(e for e in employer_timeline(employer) if e["kind"] == "来源" and "执法" in e["text"])
    assert source["date"] == datetime.date(2026, 12, 5) == timezone.localdate(late_evening_utc)
    facts = services.dossier_facts(employer)
    assert ("执法发现", "", "2026-12-05") in facts["sources"]
    assert any(when.startswith("2026-12-05 01:05") for when, _, _ in facts["changes"])
