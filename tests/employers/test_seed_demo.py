"""`manage.py seed_demo`: a synthetic Heshui county and one login per role; safe to run again."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from employers.demo import DEMO_PASSWORD
from employers.models import Declaration, Employer, EmployerSource, Township
from hezuo_shenbao import roles

pytestmark = pytest.mark.django_db
COUNT = 120


def _seed(capsys):
    call_command("seed_demo", employers=COUNT)
    return capsys.readouterr().out


def test_it_creates_a_realistic_county(capsys):
    out = _seed(capsys)
    assert f"已生成 {COUNT} 家用人单位" in out
    employers = Employer.objects.all()
    assert employers.count() == COUNT
    assert employers.filter(code_valid=True).count() == COUNT
    assert employers.values("code").distinct().count() == COUNT
    assert employers.values("name").distinct().count() == COUNT
    assert employers.filter(township__isnull=True).count() == 0
    assert employers.values("township").distinct().count() > len(Township.objects.all()) // 2
    declared = employers.filter(declaration_status="已申报").count()
    assert 0.2 * COUNT < declared < 0.8 * COUNT
    assert Declaration.objects.count() == declared
    assert EmployerSource.objects.values("employer").distinct().count() == COUNT
    assert all(e.history.exists() for e in employers[:5])


def test_it_is_idempotent_and_resets_demo_passwords(capsys, client):
    _seed(capsys)
    first = (Employer.objects.count(), Declaration.objects.count(), get_user_model().objects.count())
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("changed-by-someone")
    admin.save()
    out = _seed(capsys)
    assert f"已有 {COUNT} 家用人单位，跳过生成。" in out
    assert (Employer.objects.count(), Declaration.objects.count(), get_user_model().objects.count()) == first
    assert client.login(username="admin", password=DEMO_PASSWORD)


def test_it_creates_one_working_login_per_role(capsys, client):
    out = _seed(capsys)
    assert DEMO_PASSWORD in out
    for username, role, can_export in [
        ("cdc", roles.CDC, True),
        ("inspector", roles.INSPECTOR, False),
        ("bureau", roles.BUREAU, True),
        ("admin", roles.ADMIN, True),
    ]:
        assert username in out
        user = get_user_model().objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.is_superuser is (role == roles.ADMIN)
        assert client.login(username=username, password=DEMO_PASSWORD), username
        assert client.get(reverse("employers:list")).status_code == 200
        assert (client.get(reverse("employers:export")).status_code == 200) is can_export, username
        client.logout()
