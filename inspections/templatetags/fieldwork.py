"""Template tags for the parts of the employer page that belong to field work."""

from django import template

from inspections.services import can_work_on, employer_timeline

register = template.Library()


@register.simple_tag
def timeline_for(employer):
    return employer_timeline(employer)


@register.simple_tag
def may_work_on(user, employer):
    return user.has_perm("inspections.add_visit") and can_work_on(user, employer)


@register.simple_tag
def may_see_fieldwork(user, employer):
    """Inspectors see the field work of their assigned employers only."""
    return user.has_perm("inspections.view_visit") and can_work_on(user, employer)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")
