"""Every named URL, as every role and as an anonymous user: allowed or denied as the apps declare."""

import importlib
import pkgutil
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

import tests
from tests.access_rules import ROLES

# Pages every visitor may reach, or that belong to Django itself.
PUBLIC = {"login", "logout", "healthz", "home", "favicon", "password_change", "password_change_done"}


def _collect_rules():
    rules = {}
    for package in pkgutil.iter_modules(tests.__path__):
        if not package.ispkg:
            continue
        folder = Path(tests.__path__[0]) / package.name
        for module in pkgutil.iter_modules([str(folder)]):
            if module.name.startswith("access"):
                rules.update(importlib.import_module(f"tests.{package.name}.{module.name}").ACCESS)
    return rules


def _named_urls(resolver=None, namespace=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in ("admin", "system"):  # the admin sites, Django's own
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_urls(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


RULES = _collect_rules()


def test_every_url_has_an_access_rule():
    missing = sorted(set(_named_urls()) - PUBLIC - set(RULES))
    assert not missing, f"URLs without an access rule in tests/<app>/access.py: {missing}"


def _request(client, rule, url):
    return client.post(url, rule.data) if rule.method == "post" else client.get(url, rule.data)


@pytest.mark.parametrize("name", sorted(RULES))
def test_anonymous_is_sent_to_login(client, cast, name):
    rule = RULES[name]
    url = reverse(name, args=rule.args(cast) if rule.args else [])
    response = _request(client, rule, url)
    assert response.status_code == 302 and response.url.startswith(reverse("login")), response.status_code


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(RULES))
def test_role_access(client, cast, name, role):
    rule = RULES[name]
    client.force_login(getattr(cast, role))
    url = reverse(name, args=rule.args(cast) if rule.args else [])
    response = _request(client, rule, url)
    if role in rule.roles:
        assert response.status_code in (200, 302), f"{role} should reach {name}: {response.status_code}"
    else:
        assert response.status_code == 403, f"{role} should be denied {name}: {response.status_code}"
