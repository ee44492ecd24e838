"""The periodic tracking report: figures of a hand-counted quarter and month, read back from the PDF (pypdf)
and the .docx (python-docx); reproducible bytes; numbering per period; period validation; the pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from docx import Document
from pypdf import PdfReader

from bizreg.tracking.models import TrackingReport
from bizreg.tracking.reporting import charts
from bizreg.tracking.reporting.document import render
from bizreg.tracking.services import reports as services
from bizreg.tracking.tests.fixtures_reports import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_reports import at, docx_text, pdf_text

pytestmark = pytest.mark.django_db
D = dt.date
GENERATED = dt.datetime(2023, 4, 3, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


Q1_START = D(2023, 1, 1)


def generate(authority, officer, period="quarter", start=Q1_START, **kwargs):
    return services.report_generate(
        authority=authority,
        period=period,
        period_start=start,
        actor=officer,
        generated_at=GENERATED,
        **kwargs,
    )


def stored(report: TrackingReport, fmt: str) -> bytes:
    field = report.pdf if fmt == "pdf" else report.docx
    with field.open("rb") as handle:
        return handle.read()


def test_quarter_figures(authority, officer, quarter):
    started = time.perf_counter()
    report = generate(authority, officer)
    assert time.perf_counter() - started < 10
    assert report.number == "跟踪报告2023Q1-1"
    assert (report.period_start, report.period_end) == (D(2023, 1, 1), D(2023, 3, 31))
    content = report.content
    assert content["title"] == "企业跟踪服务季度报告（2023年第一季度）"
    assert content["as_of"] == "2023-03-31"
    visits = content["figures"]["visits"]
    assert (visits["planned"], visits["planned_done"], visits["done"], visits["completion_rate"]) == (
        4,
        2,
        3,
        "50.00",
    )
    assert {r["key"]: r["count"] for r in visits["by_method"]} == {"on_site": 2, "phone": 1}
    assert [(r["key"], r["planned"], r["done"]) for r in visits["by_reason"]] == [
        ("new", 2, 1),
        ("capital", 2, 1),
        ("unplanned", 0, 1),
    ]
    assert [(r["month"], r["planned"], r["done"]) for r in visits["by_month"]] == [
        ("2022-10", 0, 0),
        ("2022-11", 0, 0),
        ("2022-12", 0, 0),
        ("2023-01", 1, 1),
        ("2023-02", 1, 1),
        ("2023-03", 2, 1),
    ]
    appeals = content["figures"]["appeals"]
    assert (appeals["raised"], appeals["closed"], appeals["on_time"], appeals["on_time_rate"]) == (
        6,
        4,
        3,
        "75.00",
    )
    assert (appeals["rated"], appeals["satisfied"], appeals["satisfaction_rate"]) == (3, 2, "66.67")
    assert appeals["average_satisfaction"] == "3.67"
    assert appeals["overdue_count"] == 2
    assert [(r["number"], r["days"]) for r in appeals["overdue"]] == [
        (quarter["A7"].number, 70),
        (quarter["A4"].number, 16),
    ]
    categories = {r["key"]: r for r in appeals["by_category"]}
    assert (categories["policy"]["raised"], categories["policy"]["closed"]) == (2, 2)
    assert (categories["policy"]["on_time_rate"], categories["policy"]["satisfaction_rate"]) == (
        "50.00",
        "50.00",
    )
    assert (categories["labour"]["raised"], categories["labour"]["closed"]) == (0, 1)
    departments = {r["name"]: r for r in appeals["by_department"]}
    assert (departments["区发展和改革局"]["raised"], departments["区发展和改革局"]["closed"]) == (3, 2)
    assert (departments["区税务局"]["raised"], departments["区税务局"]["closed"]) == (2, 1)
    assert departments["未转办（专员直接办结）"]["closed"] == 1
    migration = content["figures"]["migration"]
    assert (migration["in"], migration["out"], migration["net"]) == (3, 2, 1)
    assert [(r["month"], r["in"], r["out"]) for r in migration["by_month"]][2:] == [
        ("2022-12", 0, 1),
        ("2023-01", 1, 0),
        ("2023-02", 1, 1),
        ("2023-03", 1, 1),
    ]
    assert migration["industries"][0] == {
        "key": "I",
        "label": "I 信息传输、软件和信息技术服务业",
        "in": 2,
        "out": 1,
    }
    assert {r["region"]: r["count"] for r in migration["destinations"]} == {"外省": 1, "广东省（省内）": 1}
    assert [r["key"] for r in migration["reasons"]] in (["cost", "policy"], ["policy", "cost"])
    watch = content["figures"]["watch"]
    assert (watch["new"], watch["watching"]) == (2, 3)
    issues = content["figures"]["issues"]
    assert (issues["found"], issues["resolved"], issues["unresolved"]) == (2, 1, 1)
    assert (issues["measures_total"], issues["measures_done"], issues["measures_overdue"]) == (2, 1, 1)
    assert {row["title"] for row in issues["items"]} == {"开办企业银行开户慢", "园区停车位紧张"}
    narrative = "".join(content["narrative"])
    assert "共完成企业走访 3 户次" in narrative and "已完成 2 项，走访完成率 50.00%" in narrative
    assert "按期办结率 75.00%" in narrative and "企业满意度 66.67%" in narrative
    assert "企业迁入 3 户、迁出 2 户，净迁入 1 户" in narrative
    assert "尚有 2 件诉求超过办理期限未办结" in narrative


def test_quarter_read_back_from_pdf_and_docx(authority, officer, quarter):
    report = generate(authority, officer)
    for text in (pdf_text(stored(report, "pdf")), docx_text(stored(report, "docx"))):
        for expected in (
            "企业跟踪服务季度报告（2023年第一季度）",
            "跟踪报告2023Q1-1",
            "走访完成率50.00%",
            "共完成企业走访3户次",
            "按期办结率75.00%",
            "企业满意度66.67%",
            "企业迁入3户、迁出2户，净迁入1户",
            "开办企业银行开户慢",
            "协调银行增设开户专窗",
            "区发展和改革局",
            quarter["A4"].number,
            "图4企业迁入迁出（按月）",
            "广州市南沙区政务服务和数据管理局",
        ):
            assert expected in text, expected
    reader = PdfReader(io.BytesIO(stored(report, "pdf")))
    images = [image for page in reader.pages for image in page.images]
    assert (
        len(images) >= 4
    )  # visits by reason and by month, appeals by category, migration by month (+ reasons)
    package = zipfile.ZipFile(io.BytesIO(stored(report, "docx")))
    assert len([name for name in package.namelist() if name.startswith("word/media/")]) >= 4
    assert len(Document(io.BytesIO(stored(report, "docx"))).inline_shapes) == len(images)


def test_month_figures_and_text(authority, officer, quarter):
    report = generate(authority, officer, period="month", start=D(2023, 3, 1))
    assert report.number == "跟踪报告2023M03-1"
    assert report.content["title"] == "企业跟踪服务月度报告（2023年3月）"
    figures = report.content["figures"]
    assert (
        figures["visits"]["planned"],
        figures["visits"]["done"],
        figures["visits"]["completion_rate"],
    ) == (
        2,
        1,
        "50.00",
    )
    assert len(figures["visits"]["by_month"]) == 6 and figures["visits"]["by_month"][-1]["month"] == "2023-03"
    appeals = figures["appeals"]
    assert (appeals["raised"], appeals["closed"], appeals["on_time_rate"], appeals["satisfaction_rate"]) == (
        2,
        2,
        "50.00",
        "50.00",
    )
    assert (figures["migration"]["in"], figures["migration"]["out"], figures["migration"]["net"]) == (1, 1, 0)
    assert (figures["issues"]["found"], figures["issues"]["resolved"]) == (1, 1)
    for text in (pdf_text(stored(report, "pdf")), docx_text(stored(report, "docx"))):
        assert "2023年3月" in text and "走访完成率50.00%" in text and "迁入迁出持平" in text


def test_same_content_gives_identical_bytes(authority, officer, quarter):
    report = generate(authority, officer)
    for fmt in ("pdf", "docx"):
        data = stored(report, fmt)
        expected = report.pdf_sha256 if fmt == "pdf" else report.docx_sha256
        assert hashlib.sha256(data).hexdigest() == expected
        report.refresh_from_db()  # the content as read back from the JSON column
        assert render(report.content, fmt) == data
        assert services.report_render(report, fmt) == data
    chart = charts.column_chart(
        title="测试",
        categories=["1月", "2月"],
        series=[charts.Series("甲", (1, 2)), charts.Series("乙", (0, 3))],
    )
    assert chart == charts.column_chart(
        title="测试",
        categories=["1月", "2月"],
        series=[charts.Series("甲", (1, 2)), charts.Series("乙", (0, 3))],
    )


def test_a_missing_file_is_rerendered_and_a_tampered_content_refused(authority, officer, quarter):
    report = generate(authority, officer)
    data = stored(report, "pdf")
    report.pdf.delete(save=False)
    assert services.report_render(report, "pdf") == data
    report.content["figures"]["visits"]["done"] = 99
    report.docx.delete(save=False)
    with pytest.raises(services.ReportIntegrityError):
        services.report_render(report, "docx")
    with pytest.raises(ValidationError):
        services.report_render(report, "xls")


def test_regenerating_a_period_numbers_the_next_version(
    authority, other_authority, officer, stranger, quarter
):
    first = generate(authority, officer)
    second = generate(authority, officer)
    month = generate(authority, officer, period="month", start=D(2023, 1, 1))
    theirs = generate(other_authority, stranger)
    assert (first.number, second.number, month.number, theirs.number) == (
        "跟踪报告2023Q1-1",
        "跟踪报告2023Q1-2",
        "跟踪报告2023M01-1",
        "跟踪报告2023Q1-1",
    )
    assert theirs.content["figures"]["migration"]["out"] == 1  # only its own rows


@pytest.mark.parametrize(
    ("period", "start", "field", "message"),
    [
        ("month", D(2023, 3, 15), "period_start", "期间开始日期须为当月 1 日。"),
        ("quarter", D(2023, 2, 1), "period_start", "季报的期间须从 1 月、4 月、7 月或 10 月 1 日开始。"),
        ("quarter", D(2023, 4, 2), "period_start", "期间开始日期须为当月 1 日。"),
        ("month", "2023-02-30", "period_start", "请填写期间开始日期（YYYY-MM-DD）。"),
        ("month", None, "period_start", "请填写期间开始日期（YYYY-MM-DD）。"),
        ("year", D(2023, 1, 1), "period", "报告类型只能是月报或季报。"),
    ],
)
def test_period_validation(authority, officer, period, start, field, message):
    with pytest.raises(ValidationError) as excinfo:
        services.report_generate(authority=authority, period=period, period_start=start, actor=officer)
    assert message in excinfo.value.message_dict[field]
    assert not TrackingReport.objects.exists()


def test_a_future_period_is_refused_and_the_running_one_allowed(authority, officer):
    today = dt.date.today()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    with pytest.raises(ValidationError) as excinfo:
        services.report_generate(authority=authority, period="month", period_start=next_month, actor=officer)
    assert excinfo.value.message_dict["period_start"] == ["不能为尚未开始的期间生成报告。"]
    report = services.report_generate(
        authority=authority, period="month", period_start=today.replace(day=1), actor=officer
    )
    assert report.content["as_of"] == today.isoformat()


def test_who_may_generate(authority, other_authority, manager, clerk, officer):
    assert generate(authority, manager).number == "跟踪报告2023Q1-1"
    with pytest.raises(PermissionDenied):
        generate(authority, clerk)
    with pytest.raises(PermissionDenied):
        generate(other_authority, officer)


# --- pages ------------------------------------------------------------------------------------------------


@pytest.fixture
def report(authority, officer, quarter):
    return generate(authority, officer)


@pytest.mark.parametrize(
    ("role", "status"), [("officer", 200), ("manager", 200), ("clerk", 403), ("member", 403)]
)
def test_page_permissions(client_for, report, officer, manager, clerk, department_member, role, status):
    client = client_for(
        {"officer": officer, "manager": manager, "clerk": clerk, "member": department_member}[role]
    )
    for url in (
        reverse("tracking:report_list"),
        reverse("tracking:report_generate"),
        reverse("tracking:report_detail", args=[report.pk]),
        reverse("tracking:report_download", args=[report.pk, "pdf"]),
    ):
        assert client.get(url).status_code == status, url


def test_another_authority_gets_404(client_for, report, stranger):
    client = client_for(stranger)
    assert client.get(reverse("tracking:report_detail", args=[report.pk])).status_code == 404
    assert client.get(reverse("tracking:report_download", args=[report.pk, "docx"])).status_code == 404
    assert report.number not in client.get(reverse("tracking:report_list")).content.decode()


def test_detail_and_downloads(client_for, report, officer):
    client = client_for(officer)
    page = client.get(reverse("tracking:report_detail", args=[report.pk])).content.decode()
    assert report.number in page and "50.00%" in page and "区发展和改革局" in page
    assert report.pdf_sha256 in page
    response = client.get(reverse("tracking:report_download", args=[report.pk, "pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == report.pdf_sha256
    assert "attachment" in response["Content-Disposition"]
    response = client.get(reverse("tracking:report_download", args=[report.pk, "docx"]))
    assert hashlib.sha256(response.content).hexdigest() == report.docx_sha256
    assert client.get(reverse("tracking:report_download", args=[report.pk, "exe"])).status_code == 404


def test_list_filters(client_for, report, authority, officer):
    month = generate(authority, officer, period="month", start=D(2023, 2, 1))
    client = client_for(officer)
    page = client.get(reverse("tracking:report_list"), {"period": "month"}).content.decode()
    assert month.number in page and report.number not in page
    page = client.get(reverse("tracking:report_list"), {"year": "2022"}).content.decode()
    assert month.number not in page and report.number not in page
    page = client.get(reverse("tracking:report_list"), {"year": "2023", "q": "Q1"}).content.decode()
    assert report.number in page and month.number not in page


def test_generate_page(client_for, authority, officer, quarter):
    client = client_for(officer)
    response = client.post(
        reverse("tracking:report_generate"), {"period": "quarter", "period_start": "2023-02-01"}
    )
    assert response.status_code == 400
    assert "季报的期间须从 1 月、4 月、7 月或 10 月 1 日开始。" in response.content.decode()
    response = client.post(
        reverse("tracking:report_generate"), {"period": "quarter", "period_start": "2023-01-01"}
    )
    report = TrackingReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "tracking:report_detail", args=[report.pk]
    )
    assert report.number == "跟踪报告2023Q1-1" and report.generated_by == officer


def test_a_quarter_of_a_busy_year_renders_quickly(authority, officer, department):
    """A year of rows in the size of the demo data (thousands of visits, appeals and migrations): the
    figures are GROUP BY queries and the lists are capped, so a quarter stays well under 10 seconds."""
    import random

    from bizreg.testing.factories import EnterpriseFactory
    from bizreg.tracking.models import Appeal, Migration, Visit, VisitPlan

    rng = random.Random(8)
    firms = [EnterpriseFactory(authority=authority) for _ in range(40)]
    days = [D(2023, 1, 1) + dt.timedelta(days=n) for n in range(365)]
    plans = VisitPlan.objects.bulk_create(
        VisitPlan(
            authority=authority, enterprise=rng.choice(firms),
            reason=rng.choice(["new", "capital", "move_out"]), trigger="t", trigger_key=f"k{n}",
            state=rng.choice(["done", "open", "assigned", "cancelled"]),
            planned_on=day, due_on=day,
        )
        for n, day in enumerate(rng.choice(days) for _ in range(2500))
    )  # fmt: skip
    Visit.objects.bulk_create(
        Visit(
            authority=authority, number=f"走2023{n:05d}", plan=rng.choice([*plans, None]),
            enterprise=rng.choice(firms), officer=officer, method=rng.choice(["on_site", "phone"]),
            visited_on=rng.choice(days), state="submitted",
        )
        for n in range(2500)
    )  # fmt: skip
    appeals = []
    for n in range(1500):
        day = rng.choice(days)
        closed = rng.random() < 0.7
        appeals.append(
            Appeal(
                authority=authority, number=f"诉2023{n:05d}", enterprise=rng.choice(firms),
                category=rng.choice(["policy", "tax", "labour", "finance"]), title="t", description="d",
                contact_name="王", contact_phone="13912345678", state="closed" if closed else "routed",
                raised_on=day, raised_by=officer, department=department, due_on=day + dt.timedelta(days=14),
                closed_at=at(day + dt.timedelta(days=rng.randint(1, 30))) if closed else None,
                closed_on_time=rng.random() < 0.8 if closed else None,
                satisfaction=rng.randint(1, 5) if closed else None,
            )
        )  # fmt: skip
    Appeal.objects.bulk_create(appeals)
    Migration.objects.bulk_create(
        Migration(
            authority=authority, direction=rng.choice(["in", "out"]), enterprise_name="m", uscc="x",
            case_number=f"M{n}", moved_on=rng.choice(days), industry=rng.choice("CFIL"), entity_type="llc",
            counterpart_authority="a", counterpart_region=rng.choice(["外省", "广州市（市内）"]),
            reason=rng.choice(["cost", "policy", "unknown"]),
        )
        for n in range(6000)
    )  # fmt: skip
    started = time.perf_counter()
    report = generate(authority, officer, start=D(2023, 7, 1))
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    assert report.content["figures"]["appeals"]["overdue_count"] > len(
        report.content["figures"]["appeals"]["overdue"]
    )
