"""Each role lands on its own start page; the CDC's 工作台 counts what waits for them; the favicon is served."""

import datetime

import pytest
from django.urls import reverse

from matching.models import ImportBatch, SourceRecord
from reports.models import Submission
from tests.builders import make_employer

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, start",
    [
        ("cdc", "workbench"),
        ("admin", "workbench"),
        ("inspector", "inspections:work_list"),
        ("bureau", "reports:dashboard"),
    ],
)
def test_login_lands_on_the_roles_start_page(client, cast, role, start):
    user = getattr(cast, role)
    response = client.post(reverse("login"), {"username": user.username, "password": "pw-for-tests-1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse(start)
    assert response.status_code == 200


def _count(response, key):
    html = response.content.decode()
    marker = f'data-waiting="{key}"'
    assert marker in html
    after = html[html.index(marker) :]
    return int(after[after.index('data-count="') + 12 :].split('"', 1)[0])


def test_workbench_counts_what_waits(as_user, cast):
    make_employer(register_status="待确认")
    make_employer(register_status="待确认")
    make_employer(follow_up_due=datetime.date(2020, 1, 1))
    candidate = make_employer()
    batch = ImportBatch.objects.create(kind="exam", file_name="体检.xlsx", file_sha256="1" * 64, status="preview")
    SourceRecord.objects.create(
        batch=batch, kind="exam", row_number=3, name="甲", name_norm="甲", candidate=candidate, link_status="review"
    )
    response = as_user(cast.cdc).get(reverse("workbench"))
    assert response.status_code == 200
    assert _count(response, "review") == 1
    assert _count(response, "pending") == 2
    assert _count(response, "imports") == 1
    assert _count(response, "follow_up") == 1
    assert _count(response, "submission") == 1
    assert "未报送" in response.content.decode()


def test_workbench_shows_the_submission_done(as_user, cast):
    from reports.services import last_quarter

    quarter = last_quarter()
    Submission.objects.create(year=quarter.year, quarter=quarter.quarter, employer_count=0, declared_count=0)
    response = as_user(cast.cdc).get(reverse("workbench"))
    assert _count(response, "submission") == 0
    assert "已报送" in response.content.decode()


def test_favicon_is_served_and_linked(client, as_user, cast):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # the .ico header
    page = as_user(cast.cdc).get(reverse("workbench")).content.decode()
    assert 'rel="icon"' in page
