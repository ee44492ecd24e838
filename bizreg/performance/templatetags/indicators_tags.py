"""The indicators panel of the project detail page (included with only `project` in its context)."""

from __future__ import annotations

from django import template

from bizreg.performance.selectors import indicators as selectors
from bizreg.performance.services import indicators as services

register = template.Library()


@register.inclusion_tag("performance/indicators_panel_body.html", takes_context=True)
def indicators_panel(context, project):
    """Rows of target, actual and score for the year, with the lint findings and the weight check."""
    table = selectors.evaluation_table(project, viewer=context["request"].user)
    findings = services.lint_project(project)
    return {
        "project": project,
        "rows": table["rows"],
        "evaluation": table["evaluation"],
        "weights": services.weight_summary(project),
        "finding_count": sum(1 for f in findings if f.severity != "info"),
        "findings": [f for f in findings if f.severity != "info"][:10],
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }
