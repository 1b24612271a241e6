"""Who is logging in from where, how often they may fail, which passwords are refused, and the
forced change of a published demo password."""

import re

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.shortcuts import redirect
from django.urls import reverse


def client_address(request):
    """The visitor's address (AXES_CLIENT_IP_CALLABLE).

    Behind nginx every request comes from 127.0.0.1; nginx writes the real address into
    X-Forwarded-For (deploy/nginx/hezuo.conf). The header is believed only when the request comes
    from one of TRUSTED_PROXIES — anyone else could write whatever address they like into it — and
    only its last entry, the one nginx wrote: earlier entries are what the client sent."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote in settings.TRUSTED_PROXIES and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return remote


class PairAndAddressHandler(AxesDatabaseHandler):
    """Locks a username + address after AXES_FAILURE_LIMIT failures (AXES_LOCKOUT_PARAMETERS), and an
    address after AXES_ADDRESS_FAILURE_LIMIT failures over any usernames.

    So wrong passwords typed from outside lock out only the outsider's own address, never a colleague
    at their desk, and spraying one password over many usernames from one address stops at the
    address limit. Both counts cover the cool-off period only."""

    def get_failures(self, request, credentials=None):
        pair = super().get_failures(request, credentials)
        attempts = AccessAttempt.objects.filter(ip_address=request.axes_ip_address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        address = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
        if address >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(pair, get_failure_limit(request, credentials))
        return pair


# seed_demo's accounts' password, printed by `make run` and in the README: it must pass the policy.
DEMO_PASSWORD = "Heshui@2026"

# "Heshui2026", "Password123": a word and a number is the first thing a password list tries.
WORD_AND_NUMBER = re.compile(r"^([A-Za-z]+[0-9]+|[0-9]+[A-Za-z]+)$")
CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"), re.compile(r"[^A-Za-z0-9]"))


class CharacterClassValidator:
    """At least `min_length` characters and `classes` of lower case, upper case, digits and symbols, and not
    just a word and a number. (Django's own length validator says it in English only.)"""

    def __init__(self, min_length=10, classes=3):
        self.min_length, self.classes = min_length, classes

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(f"密码太短：至少 {self.min_length} 个字符。", code="password_too_short")
        if sum(1 for pattern in CLASSES if pattern.search(password)) < self.classes:
            raise ValidationError(
                f"密码须包含小写字母、大写字母、数字、符号中的至少 {self.classes} 类。", code="password_classes"
            )
        if WORD_AND_NUMBER.match(password):
            raise ValidationError(
                "密码不能只是一个单词加一串数字（如 Heshui2026），请加入符号或打乱顺序。", code="password_word_number"
            )

    def get_help_text(self):
        return (
            f"至少 {self.min_length} 个字符，包含小写字母、大写字母、数字、符号中的 {self.classes} 类，"
            "且不能只是单词加数字。"
        )


def uses_demo_password(user):
    return user.check_password(DEMO_PASSWORD)


class DemoPasswordMiddleware:
    """Outside the demo (DEMO off), a user whose password is still the published demo password is sent
    to the password change page until they change it. The password is checked once per session and
    again only when it changes (the session remembers the hash it checked)."""

    SESSION_KEY = "demo_password_checked"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if settings.DEMO or not user.is_authenticated:
            return self.get_response(request)
        checked = request.session.get(self.SESSION_KEY)
        if not checked or checked[0] != user.password:
            checked = [user.password, uses_demo_password(user)]
            request.session[self.SESSION_KEY] = checked
        allowed = (reverse("password_change"), reverse("password_change_done"), reverse("logout"))
        if checked[1] and request.path not in allowed:
            return redirect("password_change")
        return self.get_response(request)
