"""Indicator pages and API: role matrix (officer writes and requests, manager approves, clerk 403, another
authority 404), the forms' refusals, the 自评表, the lint page, the drill-down links."""

# ruff: noqa: F811 — pytest fixtures imported from indicators_fixtures are redefined as parameters

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from bizreg.performance.models import AdjustmentStatus, Indicator, IndicatorAdjustment
from bizreg.performance.services import indicators as services
from bizreg.performance.tests.indicators_fixtures import (  # noqa: F401 — fixtures
    add_seed_indicators,
    indicator_data,
    make_project,
    project,
    seed_indicators,
)
from bizreg.registration.models import ServiceRecord
from bizreg.registration.tests.records_fixtures import at

pytestmark = pytest.mark.django_db


def _form(**overrides) -> dict:
    data = {k: ("" if v is None else str(v)) for k, v in indicator_data(**overrides).items()}
    return data


def test_officer_creates_an_indicator_through_the_form(client_for, officer, project):
    url = reverse("performance:indicator_create", args=[project.pk])
    response = client_for(officer).post(url, _form())
    indicator = Indicator.objects.get(project=project, code="N1")
    assert response.status_code == 302
    assert response["Location"] == reverse("performance:indicator_detail", args=[indicator.pk])


def test_form_shows_refusals(client_for, officer, project, seed_indicators):
    client = client_for(officer)
    url = reverse("performance:indicator_create", args=[project.pk])
    response = client.post(url, _form(code="1", target_value=0, metric_key=""))
    assert response.status_code == 400
    text = response.content.decode()
    assert "编号为“1”的指标" in text
    assert "不能为 0" in text
    assert Indicator.objects.filter(project=project).count() == 10


def test_clerk_gets_403_and_other_authority_404(
    client_for, clerk, make_user, other_authority, seed_indicators, project
):
    one = seed_indicators["1"]
    for url in (
        reverse("performance:indicator_list", args=[project.pk]),
        reverse("performance:indicator_detail", args=[one.pk]),
        reverse("performance:evaluation", args=[project.pk]),
        reverse("performance:adjustment_list"),
    ):
        assert client_for(clerk).get(url).status_code == 403, url
    stranger = make_user(role="finance_officer", authorities=[other_authority])
    for url in (
        reverse("performance:indicator_list", args=[project.pk]),
        reverse("performance:indicator_detail", args=[one.pk]),
        reverse("performance:indicator_edit", args=[one.pk]),
        reverse("performance:adjustment_create", args=[one.pk]),
        reverse("performance:evaluation", args=[project.pk]),
        reverse("performance:lint", args=[project.pk]),
    ):
        assert client_for(stranger).get(url).status_code == 404, url


def test_manager_reads_but_cannot_edit_or_request(client_for, manager, seed_indicators, project):
    client = client_for(manager)
    one = seed_indicators["1"]
    assert client.get(reverse("performance:indicator_detail", args=[one.pk])).status_code == 200
    assert client.get(reverse("performance:indicator_edit", args=[one.pk])).status_code == 403
    assert client.get(reverse("performance:adjustment_create", args=[one.pk])).status_code == 403
    assert client.post(reverse("performance:wire_metrics", args=[project.pk])).status_code == 403


def test_adjustment_flow_officer_requests_manager_approves(client_for, officer, manager, seed_indicators):
    one, five = seed_indicators["1"], seed_indicators["5"]
    url = reverse("performance:adjustment_create", args=[one.pk])
    # The cockpit's link prefills the form.
    page = client_for(officer).get(url + "?target=350000&reason=预计年底达不到&suggested=1")
    assert page.status_code == 200
    assert 'value="350000"' in page.content.decode()
    assert "预计年底达不到" in page.content.decode()
    response = client_for(officer).post(
        url,
        {
            "new_target_value": "350000",
            "new_weight": "12",
            "counterpart": str(five.pk),
            "reason": "预计年底达不到",
            "suggested_by_monitoring": "True",
        },
    )
    assert response.status_code == 302
    adjustment = IndicatorAdjustment.objects.get(indicator=one)
    assert adjustment.suggested_by_monitoring
    decide = reverse("performance:adjustment_decide", args=[adjustment.pk])
    assert client_for(officer).post(decide, {"action": "approve"}).status_code == 403
    listing = client_for(manager).get(reverse("performance:adjustment_list"))
    assert "预计年底达不到" in listing.content.decode()  # the manager's queue shows pending requests
    assert client_for(manager).post(decide, {"action": "approve", "reason": "同意"}).status_code == 302
    one.refresh_from_db()
    five.refresh_from_db()
    assert (one.target_value, one.weight, five.weight) == (Decimal(350000), Decimal(12), Decimal(13))
    assert client_for(manager).post(decide, {"action": "approve"}).status_code == 409
    detail = client_for(officer).get(reverse("performance:indicator_detail", args=[one.pk])).content.decode()
    assert "382000 → 350000" in detail


def test_adjustment_form_refuses_weight_change_without_counterpart(client_for, officer, seed_indicators):
    url = reverse("performance:adjustment_create", args=[seed_indicators["1"].pk])
    response = client_for(officer).post(url, {"new_weight": "12", "reason": "x"})
    assert response.status_code == 400
    assert "调整分值须指定" in response.content.decode()
    assert not IndicatorAdjustment.objects.exists()


def test_adjustment_list_filters(client_for, officer, manager, seed_indicators, authority, project):
    other_project = make_project(authority, code="OTHER")
    other = add_seed_indicators(other_project)
    services.request_adjustment(
        indicator=seed_indicators["1"], actor=officer, new_target_value=Decimal(7), reason="甲理由"
    )
    done = services.request_adjustment(
        indicator=other["1"], actor=officer, new_target_value=Decimal(8), reason="乙理由"
    )
    services.decide_adjustment(adjustment=done, action="reject", actor=manager, reason="不同意")
    client = client_for(manager)
    text = client.get(reverse("performance:adjustment_list")).content.decode()
    assert "甲理由" in text and "乙理由" not in text  # default: pending only
    text = client.get(reverse("performance:adjustment_list"), {"status": "rejected"}).content.decode()
    assert "乙理由" in text and "甲理由" not in text
    text = client.get(
        reverse("performance:adjustment_list"), {"project": project.pk, "status": ""}
    ).content.decode()
    assert "甲理由" in text and "乙理由" not in text
    export = client.get(reverse("performance:adjustment_list"), {"status": "", "export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_lint_page_lists_the_seed_findings(client_for, officer, project, seed_indicators):
    text = client_for(officer).get(reverse("performance:lint", args=[project.pk])).content.decode()
    for code in ("5", "8", "9", "10"):
        assert f'data-code="unmeasurable" data-indicator="{code}"' in text


def test_wire_button(client_for, officer, project, seed_indicators):
    Indicator.objects.filter(project=project).update(metric_key="")
    response = client_for(officer).post(reverse("performance:wire_metrics", args=[project.pk]))
    assert response.status_code == 302
    assert (
        Indicator.objects.get(project=project, code="3").metric_key
        == "registration.info_entries_and_guidance"
    )


def test_evaluation_page_shows_the_table(
    client_for, officer, manager, project, seed_indicators, clerk, authority
):
    ServiceRecord.objects.create(
        authority=authority,
        kind="info_entry",
        staff=clerk,
        enterprise_name="甲",
        occurred_at=at(dt.date(2023, 3, 1)),
        minutes=3,
    )
    services.evaluate_indicator(
        indicator=seed_indicators["5"], actor=officer, tier="met", percent=Decimal(100), reason="有效"
    )
    response = client_for(officer).get(reverse("performance:evaluation", args=[project.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "943.10" in text and "943.07" in text  # the funds block in 万元
    assert 'data-testid="budget-score">10.00' in text  # 943.07 / 943.1 × 10 rounds to 10.00
    assert "15.00" in text  # indicator 5 evaluated at 100 % of 15
    # The finance officer may not open the registration records: the figure is shown without its link.
    records_link = "/registration/records/?date_from=2023-01-01&amp;date_to=2023-12-31"
    assert records_link not in text
    as_manager = client_for(manager).get(reverse("performance:evaluation", args=[project.pk]))
    assert records_link in as_manager.content.decode()


def test_indicator_detail_period_and_drill_down(
    client_for, officer, manager, clerk, authority, seed_indicators
):
    """The figure links to the records behind it for a viewer who may open them (the manager), and is shown
    without a link to the finance officer, who may not open the registration records (403 there)."""
    for day in (dt.date(2023, 4, 3), dt.date(2023, 5, 9), dt.date(2023, 5, 10)):
        ServiceRecord.objects.create(
            authority=authority,
            kind="info_entry",
            staff=clerk,
            enterprise_name="甲",
            occurred_at=at(day),
            minutes=3,
        )
    three = seed_indicators["3"]
    client = client_for(officer)
    url = reverse("performance:indicator_detail", args=[three.pk])
    response = client.get(url, {"period": "month", "month": 5})
    assert response.context["measurement"].actual.value == Decimal(2)
    assert response.context["measurement"].drill_down_url == ""
    assert 'data-testid="drill-down"' not in response.content.decode()
    as_manager = client_for(manager).get(url, {"period": "month", "month": 5})
    link = as_manager.context["measurement"].drill_down_url
    assert parse_qs(urlparse(link).query) == {"date_from": ["2023-05-01"], "date_to": ["2023-05-31"]}
    assert 'data-testid="drill-down"' in as_manager.content.decode()
    assert client_for(officer).get(link).status_code == 403
    records = client_for(manager).get(link)
    assert records.status_code == 200
    assert records.context["page"].paginator.count == 2  # the records behind the figure
    quarter = client.get(url, {"period": "quarter", "quarter": 2})
    assert quarter.context["measurement"].actual.value == Decimal(3)
    custom = client.get(url, {"period": "custom", "date_from": "2023-05-10", "date_to": "2023-05-10"})
    assert custom.context["measurement"].actual.value == Decimal(1)
    bad = client.get(url, {"period": "custom", "date_from": "2023-05-10", "date_to": "2023-05-01"})
    assert bad.status_code == 200 and "起始日期不能晚于截止日期" in bad.content.decode()


def test_evaluate_form(client_for, officer, seed_indicators):
    url = reverse("performance:indicator_evaluate", args=[seed_indicators["8"].pk])
    bad = client_for(officer).post(url, {"tier": "partial", "percent": "90", "reason": "x"})
    assert bad.status_code == 400 and "60%–80%" in bad.content.decode()
    ok = client_for(officer).post(
        url, {"tier": "partial", "percent": "75", "reason": "部分压缩", "deviation_note": "加强"}
    )
    assert ok.status_code == 302
    seed_indicators["8"].refresh_from_db()
    assert seed_indicators["8"].deviation_note == "加强"


def test_project_panel_renders(rf, officer, project, seed_indicators):
    from django.template.loader import render_to_string

    request = rf.get("/")
    request.user = officer
    html = render_to_string(
        "performance/indicators_project_panel.html", {"project": project}, request=request
    )
    assert 'data-testid="indicators-panel"' in html
    assert "业务服务量" in html
    assert reverse("performance:wire_metrics", args=[project.pk]) in html


def test_indicator_export(client_for, officer, project, seed_indicators):
    response = client_for(officer).get(
        reverse("performance:indicator_list", args=[project.pk]), {"export": "xlsx"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


# --- API -----------------------------------------------------------------------------------------------


def test_api_lists_scoped_indicators(
    client_for, officer, make_user, other_authority, project, seed_indicators
):
    response = client_for(officer).get("/api/performance-indicators/", {"project": project.pk})
    assert response.status_code == 200
    body = response.json()
    results = body["results"] if isinstance(body, dict) else body
    assert len(results) == 10
    stranger = make_user(role="finance_officer", authorities=[other_authority])
    one = seed_indicators["1"]
    assert client_for(stranger).get(f"/api/performance-indicators/{one.pk}/").status_code == 404


def test_api_adjustment_create_and_refusal(client_for, officer, manager, clerk, seed_indicators):
    one = seed_indicators["1"]
    bad = client_for(officer).post(
        "/api/performance-adjustments/",
        {"indicator": one.pk, "new_weight": "12", "reason": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "counterpart" in bad.json()
    assert client_for(clerk).get("/api/performance-adjustments/").status_code == 403
    created = client_for(officer).post(
        "/api/performance-adjustments/",
        {"indicator": one.pk, "new_target_value": "300000", "reason": "市场变化"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["status"] == AdjustmentStatus.REQUESTED
    assert (
        client_for(manager)
        .post(
            "/api/performance-adjustments/",
            {"indicator": one.pk, "new_target_value": "1", "reason": "x"},
            content_type="application/json",
        )
        .status_code
        == 403
    )
    listing = client_for(manager).get("/api/performance-adjustments/", {"status": "requested"})
    body = listing.json()
    results = body["results"] if isinstance(body, dict) else body
    assert [r["reason"] for r in results] == ["市场变化"]
