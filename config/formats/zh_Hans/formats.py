"""Django's zh_Hans formats with the ISO form first among the input formats.

A widget renders a date (an initial value, a form sent back with errors) in the first input format, and
Django's zh_Hans puts 2026/12/07 first; the browser's <input type="date"> accepts only 2026-12-07 and shows
such a field empty. Every form still accepts the other spellings.
"""

from django.conf.locale.zh_Hans import formats as _django


def _iso_first(formats: list[str]) -> list[str]:
    return sorted(formats, key=lambda f: not f.startswith("%Y-%m-%d"))


DATE_INPUT_FORMATS = _iso_first(_django.DATE_INPUT_FORMATS)
DATETIME_INPUT_FORMATS = _iso_first(_django.DATETIME_INPUT_FORMATS)
