"""Small plain builders for test data: make_thing(**overrides) with sensible defaults."""

import datetime
import itertools

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from employers.codes import make_uscc
from employers.models import Declaration, Employer, Industry, Township

_seq = itertools.count(1)


def township(name="西华池镇"):
    return Township.objects.get(name=name)


def industry(code="1120"):
    return Industry.objects.get(code=code)


def valid_code(n=None):
    n = next(_seq) if n is None else n
    return make_uscc("621024", f"{n:08d}")


def make_employer(**overrides):
    n = next(_seq)
    fields = {
        "name": f"合水县测试{n}号石油技术服务有限公司",
        "code": valid_code(n),
        "township": township(),
        "industry": industry(),
        "workers": 25,
        "exposed_workers": 10,
        "register_status": "已纳入",
    }
    fields.update(overrides)
    return Employer.objects.create(**fields)


def make_declaration(employer, **overrides):
    fields = {
        "employer": employer,
        "declaration_type": "初次申报",
        "declared_on": datetime.date(2025, 3, 1),
        "receipt_no": f"SB{next(_seq):08d}",
    }
    fields.update(overrides)
    declaration = Declaration.objects.create(**fields)
    employer.refresh_declaration()
    return declaration


def make_user(username, role=None, **overrides):
    user = get_user_model().objects.create_user(username=username, password="pw-for-tests-1", **overrides)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_event(employers=(), **overrides):
    from outreach.models import OutreachEvent, OutreachTarget

    fields = {"kind": "告知单发放", "date": datetime.date(2025, 4, 1), "description": "集中发放告知单"}
    fields.update(overrides)
    event = OutreachEvent.objects.create(**fields)
    for employer in employers:
        OutreachTarget.objects.create(event=event, employer=employer, delivered=True)
    return event


def make_visit(employer, inspector=None, **overrides):
    from inspections.models import Visit

    fields = {"employer": employer, "date": datetime.date(2025, 5, 1), "outcome": "已指导申报"}
    fields.update(overrides)
    visit = Visit.objects.create(**fields)
    if inspector:
        visit.inspectors.add(inspector)
    return visit


def make_assignment(inspector, township_name=None, employer=None):
    from inspections.models import Assignment

    if employer is not None:
        return Assignment.objects.create(inspector=inspector, employer=employer)
    return Assignment.objects.create(inspector=inspector, township=township(township_name or "西华池镇"))


def admin_change_data(client, url):
    """What the admin's change page posts unchanged: its form's values and its inlines' management forms."""
    page = client.get(url)
    data = {
        field.html_name: "" if field.value() is None else field.value()
        for field in page.context["adminform"].form
        if not isinstance(field.field, forms.MultipleChoiceField)
    }
    for inline in page.context["inline_admin_formsets"]:
        data.update({field.html_name: field.value() for field in inline.formset.management_form})
    return data
