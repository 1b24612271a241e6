"""Timing whole pages through django.test.Client (URL routing, middleware, view, template), as the
register, field work and supervision benchmarks do."""

import statistics
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client


def make_user(username, role):
    """A new user of `role` (hezuo_shenbao.roles)."""
    user = get_user_model().objects.create_user(username, password="bench-only-1")
    user.groups.add(Group.objects.get(name=role))
    return user


def logged_in(user):
    client = Client(SERVER_NAME="127.0.0.1")  # a host the settings allow
    client.force_login(user)
    return client


def median_ms(client, url, repeats):
    """Median of `repeats` timed requests, after two untimed ones warm caches and the connection."""
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)
