"""Template tags for the 分级分类 and 申报质量 parts of the employer page."""

from django import template

from inspections import supervision

register = template.Library()


@register.simple_tag
def supervision_for(employer):
    """The badge and the panel both ask; the employer object keeps the answer for the request."""
    if not hasattr(employer, "_supervision"):
        employer._supervision = supervision.explain(employer)
    return employer._supervision
