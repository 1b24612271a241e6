"""Filters every template may use (registered as builtins in settings.TEMPLATES)."""

from django import template

from hezuo_shenbao.lib.people import display_name

register = template.Library()


@register.filter
def person(user):
    """{{ visit.created_by|person }}: the user's name (姓名), or the login name when none is set."""
    return display_name(user)
