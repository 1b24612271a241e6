"""Derived classifications: 工业领域, 严重行业, 10人及以上, and the plan's 停产≤6个月须纳入 rule."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from employers.models import Employer
from tests.builders import industry, make_employer

pytestmark = pytest.mark.django_db


def _suspended(**kwargs):
    return make_employer(operating_status="停产停业", **kwargs)


@pytest.fixture
def statuses():
    today = timezone.localdate()
    return {
        "active": make_employer(operating_status="在业"),
        "stopped 5 months": _suspended(suspended_since=today - relativedelta(months=5)),
        "stopped exactly 6 months": _suspended(suspended_since=today - relativedelta(months=6)),
        "stopped 7 months": _suspended(suspended_since=today - relativedelta(months=7)),
        "deregistered": make_employer(operating_status="注销"),
        "revoked": make_employer(operating_status="吊销"),
    }


def test_it_includes_active_and_recently_stopped_employers_only(statuses):
    included = {label for label, e in statuses.items() if e.must_be_included()}
    assert included == {"active", "stopped 5 months", "stopped exactly 6 months"}
    assert set(Employer.objects.must_include()) == {statuses[label] for label in included}


def test_it_applies_the_rule_relative_to_a_given_day(statuses):
    later = timezone.localdate() + datetime.timedelta(days=62)
    assert not statuses["stopped 5 months"].must_be_included(later)
    assert statuses["stopped 5 months"] not in Employer.objects.must_include(later)


def test_it_derives_industrial_serious_and_ten_plus():
    oil = make_employer(industry=industry("0711"), workers=10)
    garage = make_employer(industry=industry("8111"), workers=9)
    restaurant = make_employer(industry=industry("6210"), workers=None)
    assert (oil.is_industrial, oil.is_serious, oil.is_ten_plus) == (True, True, True)
    assert (garage.is_industrial, garage.is_serious, garage.is_ten_plus) == (False, True, False)
    assert (restaurant.is_industrial, restaurant.is_serious, restaurant.is_ten_plus) == (False, False, False)
    assert set(Employer.objects.industrial()) == {oil}
    assert set(Employer.objects.serious()) == {oil, garage}
    assert set(Employer.objects.ten_plus()) == {oil}


def test_it_treats_an_employer_without_industry_as_neither_industrial_nor_serious():
    employer = make_employer(industry=None)
    assert not employer.is_industrial and not employer.is_serious
