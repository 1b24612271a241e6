"""Issue 21 item 8: odd values in a page's query string give a page or a message, never a 500."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_access import RULES

# Each set gives every parameter the pages read one kind of bad value.
PARAMETERS = ["page", "quarter", "as_of", "township", "section", "division", "q", "employer", "level", "sort",
              "count", "seed", "category", "check", "scale", "register_status", "source", "kind"]  # fmt: skip
BAD = {
    "negative": "-1",
    "huge": "99999999999999999999999",
    "garbage": "abc<'\">",
    "date": "2025-13-45",
    "nul": "控制\x00字符",
}


@pytest.mark.parametrize("quarter", ["2100Q4", "2000Q1", "1999Q4", "2025Q9", "Q", "2100Q5"])
def test_a_dashboard_quarter_out_of_range_is_a_message(cast, as_user, quarter):
    response = as_user(cast.bureau).get(reverse("reports:dashboard"), {"quarter": quarter})
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert messages and quarter in messages[0]


def test_a_bulletin_for_a_quarter_out_of_range_is_refused(cast, as_user):
    response = as_user(cast.cdc).post(reverse("reports:bulletin_create"), {"quarter": "2100Q4"}, follow=True)
    assert response.status_code == 200
    assert "季度“2100Q4”无效" in response.content.decode()


@pytest.mark.parametrize("kind", sorted(BAD))
def test_list_pages_survive_odd_query_strings(cast, kind):
    client = Client(raise_request_exception=False)
    client.force_login(cast.admin)
    query = dict.fromkeys(PARAMETERS, BAD[kind])
    failures = []
    for name, rule in sorted(RULES.items()):
        if rule.method != "get":
            continue
        url = reverse(name, args=rule.args(cast) if rule.args else [])
        response = client.get(url, query)
        if response.status_code >= 500:
            failures.append(name)
    assert failures == []
