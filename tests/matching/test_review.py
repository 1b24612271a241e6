"""Review as the CDC meets it: one decision per distinct record, in the order of what it changes, each
decision shown afterwards with who and when, and undone as one (bulk accept too, after a preview)."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from employers.models import Declaration, Employer, Industry
from matching.models import ImportBatch, LinkDecision, ReviewAction, SourceRecord
from tests.builders import make_employer

NAME = "金华塑料制品有限公司"


def _batch(kind="exam", n=1):
    return ImportBatch.objects.create(kind=kind, file_name=f"{kind}-{n}.xlsx", file_sha256=f"{n:064d}")


def _waiting(candidate, name=NAME, kind="exam", batch=None, score=0.8, row=3, **fields):
    """A record the run left for a person, proposed to `candidate`."""
    return SourceRecord.objects.create(
        batch=batch or _batch(kind),
        kind=kind,
        row_number=row,
        name=name,
        name_norm=name,
        candidate=candidate,
        link_status="review",
        link_score=score,
        link_detail={"name": score},
        **fields,
    )


def _left(page):
    return page[page.index('id="decisions-left">') :].split(">", 1)[1].split("<", 1)[0]


def test_identical_rows_across_files_are_one_decision_shown_after_with_who_and_when_and_undone(cast, as_user):
    candidate = make_employer(name="合水县鑫华塑料制品有限公司")
    first = _waiting(candidate, batch=_batch(n=1))
    again = _waiting(candidate, batch=_batch(n=2), row=9)
    monitoring = _waiting(candidate, kind="monitoring")
    client = as_user(cast.cdc)
    assert _left(client.get(reverse("matching:review")).content.decode()) == "2"
    page = client.get(reverse("matching:review_record", args=[first.pk])).content.decode()
    assert "还剩 2 项" in page and "exam-2.xlsx 第9行" in page

    response = client.post(reverse("matching:review_record", args=[first.pk]), {"decision": "accept"})
    assert response.url == reverse("matching:review_record", args=[monitoring.pk])
    for record in (first, again):
        record.refresh_from_db()
        assert (record.link_status, record.employer) == ("linked", candidate)
    monitoring.refresh_from_db()
    assert monitoring.link_status == "review"
    assert LinkDecision.objects.get(name_norm=NAME).accepted

    page = client.get(reverse("matching:review_record", args=[again.pk])).content.decode()
    action = ReviewAction.objects.get()
    when = timezone.localtime(action.decided_at, datetime.timezone(datetime.timedelta(hours=8)))
    decision = page[page.index('id="decision"') :]
    assert "确认为同一单位" in decision and "张敏" in decision and f"{when:%Y-%m-%d %H:%M}（北京时间）" in decision
    assert "共 2 条记录" in decision and "撤销" in decision
    assert 'value="accept"' not in page and 'value="reject"' not in page

    client.post(reverse("matching:review_undo", args=[action.pk]))
    for record in (first, again):
        record.refresh_from_db()
        assert (record.link_status, record.employer, record.candidate) == ("review", None, candidate)
    assert not LinkDecision.objects.exists()
    assert _left(client.get(reverse("matching:review")).content.decode()) == "2"
    response = client.post(reverse("matching:review_undo", args=[action.pk]), follow=True)
    assert "这项审核已经撤销过了" in response.content.decode()


def test_the_queue_puts_what_changes_the_undeclared_list_and_serious_industries_first(cast, as_user):
    serious, general = (Industry.objects.filter(level=4, risk=risk).first() for risk in ("严重", "一般"))
    listed = _waiting(make_employer(industry=general), name="合水县甲商贸有限公司", kind="register", score=0.95)
    exam = _waiting(make_employer(industry=general), name="合水县乙建材有限公司", score=0.75)
    exam_serious = _waiting(make_employer(industry=serious), name="合水县丙矿业有限公司", score=0.73)
    page = as_user(cast.cdc).get(reverse("matching:review")).content.decode()
    queue = page[page.index('id="queue"') :]
    positions = [queue.index(r.name) for r in (exam_serious, exam, listed)]
    assert positions == sorted(positions)
    row = queue[positions[0] : positions[1]]
    assert "影响未申报名单" in row and "严重危害行业" in row
    assert "影响未申报名单" not in queue[positions[2] :]


def test_undoing_a_rejection_removes_the_employer_it_founded(cast, as_user):
    candidate = make_employer(name="合水县鑫华塑料制品有限公司")
    record = _waiting(candidate)
    client = as_user(cast.cdc)
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "reject"})
    record.refresh_from_db()
    founded = record.employer
    assert record.link_status == "new" and founded not in (None, candidate)
    assert LinkDecision.objects.get(employer=candidate).accepted is False
    page = client.get(reverse("matching:review_record", args=[record.pk])).content.decode()
    assert "否决（不是同一单位）" in page and "张敏" in page

    client.post(reverse("matching:review_undo", args=[ReviewAction.objects.get().pk]))
    record.refresh_from_db()
    assert (record.link_status, record.candidate, record.employer) == ("review", candidate, None)
    assert not Employer.objects.filter(pk=founded.pk).exists()
    assert not LinkDecision.objects.exists()


def test_undoing_an_accepted_declaration_takes_its_filing_back(cast, as_user):
    candidate = make_employer(name="合水县鑫华塑料制品有限公司")
    record = _waiting(
        candidate,
        kind="declaration",
        record_date=datetime.date(2025, 4, 1),
        data={"declaration_type": "初次申报", "review_status": "审核通过"},
    )
    client = as_user(cast.cdc)
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "accept"})
    candidate.refresh_from_db()
    assert candidate.is_declared and candidate.declarations.count() == 1
    client.post(reverse("matching:review_undo", args=[ReviewAction.objects.get().pk]))
    candidate.refresh_from_db()
    assert not candidate.is_declared and not Declaration.objects.exists()
    assert not candidate.sources.filter(kind="declaration").exists()


def test_bulk_accept_shows_what_it_will_do_asks_to_confirm_and_is_undone_whole(cast, as_user):
    strong = [_waiting(make_employer(), name=f"合水县{n}号建材厂", score=score) for n, score in ((1, 0.93), (2, 0.86))]
    proposed = [record.candidate_id for record in strong]
    weak = _waiting(make_employer(), name="合水县3号建材厂", score=0.7)
    client = as_user(cast.cdc)
    page = client.post(reverse("matching:review_bulk"), {"min_score": "0.85"}).content.decode()
    assert "<strong>2</strong> 项待审核记录（共 <strong>2</strong> 行）" in page
    sample = page[page.index('id="bulk-sample"') :]
    assert sample.index("合水县2号建材厂") < sample.index("合水县1号建材厂")  # the weakest first
    assert not SourceRecord.objects.filter(link_status="linked").exists()

    # Meanwhile the queue changed: shown again, nothing done.
    page = client.post(reverse("matching:review_bulk"), {"min_score": "0.85", "expected": "3"}).content.decode()
    assert "有了变化" in page and not SourceRecord.objects.filter(link_status="linked").exists()

    client.post(reverse("matching:review_bulk"), {"min_score": "0.85", "expected": "2"})
    for record, candidate in zip(strong, proposed):
        record.refresh_from_db()
        assert (record.link_status, record.employer_id) == ("linked", candidate)
    weak.refresh_from_db()
    assert weak.link_status == "review"
    action = ReviewAction.objects.get()
    assert (action.kind, action.records) == ("bulk", 2)
    queue = client.get(reverse("matching:review")).content.decode()
    assert "批量确认" in queue[queue.index('id="recent-actions"') :]

    client.post(reverse("matching:review_undo", args=[action.pk]))
    assert SourceRecord.objects.filter(link_status="review").count() == 3
    assert not LinkDecision.objects.exists()


def test_undo_is_refused_once_a_record_moved_on(cast, as_user):
    candidate = make_employer(name="合水县鑫华塑料制品有限公司")
    record = _waiting(candidate)
    second = _waiting(candidate, name="合水县鑫华塑料制品有限公司", row=4)
    client = as_user(cast.cdc)
    client.post(reverse("matching:review_record", args=[record.pk]), {"decision": "accept"})
    client.post(reverse("matching:review_record", args=[second.pk]), {"decision": "accept"})
    client.post(reverse("matching:split", args=[candidate.pk]), {"records": [record.pk], "reason": "两家"})
    first = ReviewAction.objects.order_by("pk").first()
    response = client.post(reverse("matching:review_undo", args=[first.pk]), follow=True)
    assert "不能撤销" in response.content.decode()
    assert ReviewAction.objects.get(pk=first.pk).undone_at is None


def test_the_employer_page_names_reviewers_in_one_query_however_many_records(cast, as_user):
    employer = make_employer()
    client = as_user(cast.cdc)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            client.get(employer.get_absolute_url())
        return len(captured)

    def linked(n):
        for row in range(n):
            SourceRecord.objects.create(
                batch=_batch(n=row + 10 * n),
                kind="exam",
                row_number=row,
                name="甲",
                name_norm="甲",
                employer=employer,
                link_status="linked",
                link_method="review",
                link_rule=cast.cdc.username,
            )

    linked(1)
    one = queries()
    linked(4)
    assert queries() == one
    assert client.get(employer.get_absolute_url()).content.decode().count("张敏审核") == 5
