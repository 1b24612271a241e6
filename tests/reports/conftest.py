import datetime

import pytest
from django.utils import timezone

from employers.models import Employer, EmployerSource


def moment(year, month, day):
    return timezone.make_aware(datetime.datetime(year, month, day, 12))


def backdate(employer, when):
    """Date the employer's listing and its decisions so far to `when`, as a list of that date and a
    confirmation dated with it would (tests cannot wait for quarters to pass)."""
    employer.listed_on = when.date()
    Employer.objects.filter(pk=employer.pk).update(listed_on=employer.listed_on)
    employer.register_changes.update(effective_on=when.date())


def add_source(employer, kind="register", department="", when=None):
    when = when or moment(2025, 1, 10)
    return EmployerSource.objects.create(
        employer=employer, kind=kind, department=department, first_seen=when, listed_on=when.date()
    )


@pytest.fixture
def county(db):
    """A small county on 2025-01-15, plus declarations in 2025Q1:

    西华池镇: A (oil services, industrial serious, 25 workers, declared 2025-03-01),
              B (oil services, 5 workers, undeclared: a 2024 gap, not a 2025 one);
    老城镇:   C (road works, serious but not industrial, 30 workers, undeclared: a 2025 gap),
              D (fuel retail, general, declared 2025-02-10);
    pending P and excluded X never count."""
    from tests.builders import industry, make_declaration, make_employer, township

    xhc, lc = township("西华池镇"), township("老城镇")
    e = {
        "A": make_employer(name="甲油田技术服务有限公司", township=xhc, industry=industry("1120"), workers=25),
        "B": make_employer(name="乙井下作业有限公司", township=xhc, industry=industry("1120"), workers=5),
        "C": make_employer(name="丙公路工程有限公司", township=lc, industry=industry("4812"), workers=30),
        "D": make_employer(name="丁加油站", township=lc, industry=industry("5265"), workers=8, scale="微"),
        "P": make_employer(name="戊待确认公司", register_status="待确认"),
        "X": make_employer(name="己已排除公司", register_status="已排除"),
    }
    make_declaration(e["A"], declared_on=datetime.date(2025, 3, 1))
    make_declaration(e["D"], declared_on=datetime.date(2025, 2, 10))
    add_source(e["A"])
    add_source(e["B"], "department", "市场监管")
    add_source(e["C"], "exam", when=moment(2025, 2, 1))
    add_source(e["C"], "register", when=moment(2025, 3, 1))
    add_source(e["D"])
    for employer in e.values():
        backdate(employer, moment(2025, 1, 15))
    return e
