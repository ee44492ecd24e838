"""Template filters of the case pages: personal data masked as in lists and exports."""

from django import template

from bizreg.core.masking import mask_id_number, mask_person_name, mask_phone

register = template.Library()


@register.filter
def mask_name(value: str | None) -> str:
    return mask_person_name(value)


@register.filter
def mask_mobile(value: str | None) -> str:
    return mask_phone(value)


@register.filter
def mask_ric(value: str | None) -> str:
    return mask_id_number(value)


@register.simple_tag(takes_context=True)
def case_query(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()
