from django import template

from bizreg.core.masking import mask_id_number
from bizreg.core.money import yuan_to_wan

register = template.Library()


@register.filter
def mask_id(value: str | None) -> str:
    return mask_id_number(value)


@register.filter
def wan(value) -> str:
    """Yuan shown in 万元 with two decimals ('' when unknown)."""
    if value in (None, ""):
        return ""
    return f"{yuan_to_wan(value):,.2f}"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination and sorting links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()
