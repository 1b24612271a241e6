"""The cross-reference's evidence as people read it, on the review queue and the employer page."""

from django.urls import reverse

from matching.models import ImportBatch, SourceRecord
from tests.builders import make_employer


def _record(**fields):
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="2" * 64)
    values = {"batch": batch, "kind": "exam", "row_number": 3, "name": "合水县星旺建材有限公司"}
    values.update(fields)
    return SourceRecord.objects.create(name_norm=values["name"], **values)


def test_the_review_queue_gives_the_evidence_in_chinese(cast, as_user):
    candidate = make_employer(name="合水县兴旺建材有限公司")
    detail = {"name": 0.838, "township": "一致", "brand": "星旺 ≠ 兴旺"}
    _record(candidate=candidate, link_status="review", link_score=0.8, link_detail=detail)
    page = as_user(cast.cdc).get(reverse("matching:review")).content.decode()
    assert "名称相似度 0.84；乡镇一致；字号 星旺 ≠ 兴旺" in page
    assert "name:" not in page and "township:" not in page


def test_the_employer_page_says_how_a_record_was_linked(cast, as_user):
    employer = make_employer()
    linked = {"link_status": "linked", "employer": employer, "link_version": "crossref-1.1"}
    _record(link_method="code", link_score=1.0, link_rule="自动", **linked)
    _record(row_number=4, link_method="review", link_score=0.9, link_rule=cast.cdc.username, **linked)
    page = as_user(cast.cdc).get(employer.get_absolute_url()).content.decode()
    panel = page[page.index('id="source-records"') :]
    assert "已关联 · 信用代码一致 · 相似度 1.00 · 自动比对 · 比对程序 1.1" in panel
    assert "人工审核 · 相似度 0.90 · 张敏审核" in panel
    assert "crossref-" not in panel and "code 1.00" not in panel
