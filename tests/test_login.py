"""Login behind the shipped nginx: real client addresses, lockouts that cannot be aimed at a colleague,
the password policy, and the forced change of the published demo password."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hezuo_shenbao import roles
from hezuo_shenbao.lib.login import DEMO_PASSWORD
from tests.builders import make_user

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def behind_nginx(settings):
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = ["127.0.0.1"]


def _from(address):
    """A browser at `address`, reaching the app through nginx on 127.0.0.1 (deploy/nginx/hezuo.conf)."""
    return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_wrong_passwords_from_outside_do_not_lock_out_the_colleague(cast, behind_nginx, settings):
    attacker = _from("203.0.113.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _login(attacker, cast.cdc.username, "wrong")
    assert response.status_code == 429
    assert _login(attacker, cast.cdc.username, PASSWORD).status_code == 429
    # 张敏 at her desk is not affected.
    assert _login(_from("10.20.1.15"), cast.cdc.username, PASSWORD).status_code == 302


def test_a_forged_forwarded_header_is_not_believed(cast, settings):
    """Straight to the app (not through nginx), X-Forwarded-For is whatever the client wrote: ignored."""
    settings.AXES_ENABLED = True
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    for n in range(settings.AXES_FAILURE_LIMIT):
        forged = Client(REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        response = _login(forged, cast.cdc.username, "wrong")
    assert response.status_code == 429


def test_only_the_last_forwarded_address_counts(cast, behind_nginx, settings):
    """An address the client put in front of nginx's own does not change who it is."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = _login(_from(f"10.0.0.{n}, 203.0.113.9"), cast.cdc.username, "wrong")
    assert response.status_code == 429


def test_spraying_one_password_over_many_usernames_locks_the_address(cast, behind_nginx, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 6
    sprayer = _from("203.0.113.50")
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT - 1):
        assert _login(sprayer, f"user{n}", "Heshui2026").status_code == 200
    assert _login(sprayer, "user-last", "Heshui2026").status_code == 429
    assert _login(sprayer, cast.cdc.username, PASSWORD).status_code == 429
    assert _login(_from("10.20.1.15"), cast.cdc.username, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "password, message",
    [
        ("cdc12345", "太短"),
        ("zhangmin", "太短"),
        ("Heshui2026", "单词加一串数字"),
        ("zhangmin-2026", "太相似"),
        ("heshuicdcjibing", "至少 3 类"),
        ("1234567890", "至少 3 类"),
    ],
)
def test_weak_passwords_are_refused(db, password, message):
    user = make_user("zhangmin", first_name="张敏")
    with pytest.raises(ValidationError) as refused, translation.override("zh-hans"):
        validate_password(password, user)
    assert any(message in text for text in refused.value.messages), refused.value.messages


def test_the_demo_password_passes_the_policy(db):
    validate_password(DEMO_PASSWORD, make_user("zhangmin"))
    validate_password("Qingcheng#Cdc-7", make_user("liqiang"))


def test_the_password_change_page_applies_the_policy(cast, as_user):
    client = as_user(cast.cdc)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Heshui2026", "new_password2": "Heshui2026"},
    )
    assert response.status_code == 200
    assert "单词加一串数字" in response.content.decode()
    cast.cdc.refresh_from_db()
    assert cast.cdc.check_password(PASSWORD)


def test_outside_the_demo_the_demo_password_must_be_changed_first(db, settings):
    settings.DEMO = False
    user = make_user("zhangmin", roles.CDC)
    user.set_password(DEMO_PASSWORD)
    user.save()
    client = Client()
    response = _login(client, "zhangmin", DEMO_PASSWORD)
    assert response.status_code == 302
    response = client.get(reverse("employers:list"))
    assert response.status_code == 302 and response.url == reverse("password_change")
    page = client.get(reverse("password_change"))
    assert "您仍在使用演示密码" in page.content.decode()
    new = "Xihua-chi#2026"
    response = client.post(
        reverse("password_change"), {"old_password": DEMO_PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.url == reverse("password_change_done")
    assert client.get(reverse("employers:list")).status_code == 200


def test_in_the_demo_the_demo_password_is_left_alone(db, settings):
    settings.DEMO = True
    user = make_user("zhangmin", roles.CDC)
    user.set_password(DEMO_PASSWORD)
    user.save()
    client = Client()
    _login(client, "zhangmin", DEMO_PASSWORD)
    assert client.get(reverse("employers:list")).status_code == 200
