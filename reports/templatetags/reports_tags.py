from urllib.parse import urlencode

from django import template
from django.urls import reverse

from employers.choices import DeclarationStatus

from ..stats import pct

register = template.Library()
STATUS = {"declared": DeclarationStatus.DECLARED, "undeclared": DeclarationStatus.UNDECLARED}


@register.simple_tag
def employer_list_url(query, which=""):
    """The employer list filtered to the employers behind a figure: all, declared or undeclared."""
    params = dict(query or {})
    if which:
        params["declaration_status"] = STATUS[which]
    return f"{reverse('employers:list')}?{urlencode(params)}"


@register.filter
def percent(value):
    return pct(value or 0)
