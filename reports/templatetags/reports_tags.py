from urllib.parse import urlencode

from django import template
from django.urls import reverse

from employers import rules

from ..stats import pct

register = template.Library()
# The register list's `declared` filter for a figure's declared / undeclared part, by the bulletin's basis.
DECLARED = {
    "current": {"declared": "current", "undeclared": "not_current"},
    "ever": {"declared": "ever", "undeclared": "never"},
}


@register.simple_tag
def employer_list_url(query, which=""):
    """The employer list filtered to the employers behind a figure: all, declared or undeclared (by the
    bulletin's basis), or current / ever declared (the query carries the figures' day, so a past
    quarter's number opens that quarter's list)."""
    params = dict(query or {})
    if which in ("current", "ever"):
        params["declared"] = which
    elif which:
        params["declared"] = DECLARED[rules.declared_basis()][which]
    return f"{reverse('employers:list')}?{urlencode(params)}"


@register.filter
def percent(value):
    return pct(value or 0)
