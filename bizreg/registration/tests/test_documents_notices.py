"""Notices: numbering, the texts of each kind read back from the PDF, reproducibility, the QR code."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections import Counter

import pytest
import qrcode
from pypdf import PdfReader
from pypdf.generic import ContentStream
from qrcode.constants import ERROR_CORRECT_M

from bizreg.core import pdf
from bizreg.registration.models import CaseDeficiency, CaseState, Notice, NoticeIssuerProfile, NoticeKind
from bizreg.registration.services import documents
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    APPLICANT_ID,
    APPLICANT_NAME,
    APPLICANT_PHONE,
    CASE_USCC,
    at,
    case,
    clerk,
    make_case,
    private_media,
)

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    # Line breaks fall wherever the layout wraps: compare texts without them.
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def issue(case, kind, actor, extra=None, when=None):
    return documents.notice_issue(
        case=case, kind=kind, actor=actor, extra=extra, issued_at=when or at(dt.date(2023, 3, 2), 16)
    )


# --- numbering ------------------------------------------------------------------------------------------


def test_numbers_run_per_kind_per_year_per_authority_without_gaps(
    authority, other_authority, clerk, make_user
):
    NoticeIssuerProfile.objects.create(authority=authority, short_name="穗南政数")
    first, second = make_case(authority), make_case(authority)
    a1 = issue(first, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    a2 = issue(second, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    acceptance = issue(first, NoticeKind.ACCEPTANCE, clerk)
    next_year = issue(second, NoticeKind.ACCEPTANCE, clerk, when=at(dt.date(2024, 1, 3)))
    other_clerk = make_user("registration_clerk", authorities=[other_authority])
    elsewhere = issue(make_case(other_authority), NoticeKind.APPROVAL_ESTABLISHMENT, other_clerk)

    assert a1.number == "穗南政数登设字〔2023〕第00001号"
    assert a2.number == "穗南政数登设字〔2023〕第00002号"
    assert acceptance.number == "穗南政数登受字〔2023〕第00001号"
    assert next_year.number == "穗南政数登受字〔2024〕第00001号"
    # Without a 机关代字 the authority code keeps the numbers of different authorities apart.
    assert elsewhere.number == "440106登设字〔2023〕第00001号"


def test_a_configured_prefix_replaces_the_default(authority, clerk, case):
    NoticeIssuerProfile.objects.create(
        authority=authority, short_name="穗南政数", number_prefixes={"rejection": "穗南政数登不字"}
    )
    notice = issue(case, NoticeKind.REJECTION, clerk, {"reason": "名称与在先登记的企业名称近似。"})
    assert notice.number == "穗南政数登不字〔2023〕第00001号"


def test_a_rolled_back_notice_gives_its_number_back(authority, clerk, case):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
        raise RuntimeError("the case transition failed after the notice")
    notice = issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    assert notice.number.endswith("〔2023〕第00001号")


def test_verification_codes_are_random_unambiguous_and_unique(clerk, case):
    codes = {issue(case, NoticeKind.ACCEPTANCE, clerk).verification_code for _ in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert len(code) == 16
        assert not set(code) & set("01ILO")


# --- the texts -----------------------------------------------------------------------------------------


def test_approval_notice_reads_as_the_official_letter(authority, clerk, case):
    notice = issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    text = pdf_text(notice.file.read())
    assert text.startswith("准予设立登记通知书")
    for expected in (
        notice.number,
        "广州南沙海洋科技有限公司：",
        "你（单位）于2023年3月1日提交的广州南沙海洋科技有限公司设立登记申请",
        "申请材料齐全，符合法定形式",
        "《中华人民共和国市场主体登记管理条例》第十九条",
        "本机关决定准予设立登记。",
        f"统一社会信用代码：{CASE_USCC}",
        f"业务编号：{case.number}",
        "特此通知。",
        authority.name,
        "二〇二三年三月二日",
        f"验证码：{documents.display_verification_code(notice.verification_code)}",
        "第1页共1页",
    ):
        assert expected in text, expected
    # A notice names the enterprise; the applicant's identifiers never appear on it.
    for personal in (APPLICANT_ID, APPLICANT_PHONE, APPLICANT_NAME):
        assert personal not in text


def test_acceptance_notice_gives_the_statutory_time_limit(clerk, authority):
    case = make_case(authority, state=CaseState.ACCEPTED, decided_at=None)
    notice = issue(case, NoticeKind.ACCEPTANCE, clerk, {"due_on": "2023-03-06"})
    text = pdf_text(notice.file.read())
    assert text.startswith("受理通知书")
    assert "本机关决定予以受理" in text
    assert "3个工作日内作出是否准予登记的决定" in text
    assert "法定办结日：2023年3月6日" in text


def test_correction_notice_lists_every_deficiency_at_once(clerk, authority):
    case = make_case(authority, state=CaseState.RETURNED, accepted_at=None, decided_at=None)
    items = ["公司章程缺少全体股东签字。", "住所使用证明未附产权证明复印件。", "法定代表人任职文件未盖章。"]
    notice = issue(case, NoticeKind.CORRECTION, clerk, {"deficiencies": items})
    text = pdf_text(notice.file.read())
    assert text.startswith("一次性告知书")
    assert "现将需要补正的全部内容一次性告知如下" in text
    for number, item in enumerate(items, start=1):
        assert f"{number}．{item}" in text
    assert "退回补正期间不计入登记办理时限" in text
    assert "告知事项：3项" in text


def test_correction_notice_reads_the_latest_round_when_not_given(clerk, authority):
    case = make_case(authority, state=CaseState.RETURNED)
    CaseDeficiency.objects.create(case=case, round=1, description="旧的一轮：缺少章程。", resolved=True)
    CaseDeficiency.objects.create(case=case, round=2, description="缺少股东会决议。")
    text = pdf_text(issue(case, NoticeKind.CORRECTION, clerk).file.read())
    assert "1．缺少股东会决议。" in text
    assert "旧的一轮" not in text


def test_rejection_notice_gives_reason_and_remedies(authority, clerk, case):
    NoticeIssuerProfile.objects.create(
        authority=authority, review_body="广州市南沙区人民政府", court="广州市南沙区人民法院"
    )
    notice = issue(
        case, NoticeKind.REJECTION, clerk, {"reason": "经营范围含有需前置审批的项目，未提交批准文件。"}
    )
    text = pdf_text(notice.file.read())
    assert text.startswith("不予登记通知书")
    assert "第二十条的规定，本机关决定不予登记。理由如下" in text
    assert "经营范围含有需前置审批的项目，未提交批准文件。" in text
    assert "自收到本通知书之日起六十日内向广州市南沙区人民政府申请行政复议" in text
    assert "六个月内依法向广州市南沙区人民法院提起行政诉讼" in text


def test_rejection_remedies_without_configured_bodies_are_still_stated(clerk, case):
    text = pdf_text(issue(case, NoticeKind.REJECTION, clerk, {"reason": "名称不符合规定。"}).file.read())
    assert "六十日内依法申请行政复议" in text
    assert "六个月内依法向人民法院提起行政诉讼" in text


def test_change_notice_tabulates_the_changes_without_id_numbers(authority, clerk):
    case = make_case(authority, case_type="change")
    changes = [
        ["住所", "广州市南沙区进港大道8号", "广州市南沙区海滨路171号"],
        ["法定代表人", "李明", "王芳"],
        ["法定代表人身份证号", "4401**********1234", "4401**********5678"],
    ]
    text = pdf_text(issue(case, NoticeKind.APPROVAL_CHANGE, clerk, {"changes": changes}).file.read())
    assert text.startswith("准予变更登记（备案）通知书")
    assert "本机关决定准予变更登记（备案）" in text
    assert "变更（备案）事项变更前变更后" in text
    assert "住所广州市南沙区进港大道8号广州市南沙区海滨路171号" in text
    assert "法定代表人李明王芳" in text
    assert "身份证" not in text


def test_deregistration_extension_and_migration_letter(authority, clerk):
    dereg = make_case(authority, case_type="simple_deregistration")
    text = pdf_text(issue(dereg, NoticeKind.APPROVAL_DEREGISTRATION, clerk).file.read())
    assert "简易注销登记申请" in text and "本机关决定准予注销登记" in text and "市场主体终止" in text

    slow = make_case(authority, state=CaseState.ACCEPTED)
    text = pdf_text(
        issue(
            slow, NoticeKind.EXTENSION, clerk, {"reason": "需核实股东身份", "due_on": "2023-03-09"}
        ).file.read()
    )
    assert text.startswith("延长办理期限通知书")
    assert "因需核实股东身份，不能在3个工作日内作出决定" in text
    assert "办理期限延长3个工作日，至2023年3月9日" in text

    leaving = make_case(authority, case_type="migration_out")
    extra = {"destination_authority": "广州市黄埔区市场监督管理局", "new_address": "广州市黄埔区科学大道1号"}
    text = pdf_text(issue(leaving, NoticeKind.MIGRATION_LETTER, clerk, extra).file.read())
    assert text.startswith("迁移调档函")
    assert "广州市黄埔区市场监督管理局：" in text
    assert "本机关同意其迁出" in text and "特此函告。" in text


@pytest.mark.parametrize(
    ("kind", "extra", "message"),
    [
        (NoticeKind.CORRECTION, {"deficiencies": []}, "至少要列明一项需要补正的内容"),
        (NoticeKind.REJECTION, {"reason": "  "}, "必须写明不予登记的理由"),
        (NoticeKind.MIGRATION_LETTER, {}, "必须写明迁入地登记机关"),
        ("licence", {}, "未知的文书类型"),
    ],
)
def test_incomplete_notices_are_refused_with_the_reason(clerk, case, kind, extra, message):
    with pytest.raises(documents.NoticeError, match=message):
        issue(case, kind, clerk, extra)
    assert not Notice.objects.exists()


# --- reproducibility and integrity ------------------------------------------------------------------------


def test_the_stored_pdf_is_reproduced_byte_for_byte(clerk, case, settings):
    notice = issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    stored = notice.file.read()
    assert hashlib.sha256(stored).hexdigest() == notice.sha256
    # Later settings changes do not change an issued notice: its URL and date are part of its content.
    settings.PORTAL_BASE_URL = "https://elsewhere.example"
    assert documents.notice_pdf_bytes(Notice.objects.get(pk=notice.pk)) == stored
    reader = PdfReader(io.BytesIO(stored))
    assert reader.metadata["/CreationDate"] == "D:20230302160000+08'00'"
    assert reader.metadata["/Title"] == "准予设立登记通知书"


def test_a_lost_file_is_served_again_from_its_content(clerk, case):
    notice = issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    stored = notice.file.read()
    notice.file.storage.delete(notice.file.name)
    assert documents.notice_stored_bytes(Notice.objects.get(pk=notice.pk)) == stored


def test_an_altered_notice_is_refused(clerk, case):
    notice = issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    notice.file.storage.delete(notice.file.name)
    content = dict(notice.content, addressee="伪造的公司")
    Notice.objects.filter(pk=notice.pk).update(content=content)
    with pytest.raises(documents.NoticeIntegrityError, match="校验值不符"):
        documents.notice_stored_bytes(Notice.objects.get(pk=notice.pk))


def test_the_cjk_font_is_embedded(clerk, case):
    reader = PdfReader(io.BytesIO(issue(case, NoticeKind.ACCEPTANCE, clerk).file.read()))
    fonts = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]
    # Every font is a subset of the embedded TrueType font (no Helvetica the reader would substitute).
    assert fonts
    assert all(str(font["/BaseFont"]).endswith("+WenQuanYiMicroHei") for font in fonts)
    assert all("/FontFile2" in font["/FontDescriptor"] for font in fonts)


# --- QR code -------------------------------------------------------------------------------------------


def qr_modules_in_pdf(data: bytes) -> list[list[bool]]:
    """Rebuild the QR matrix from the squares the page draws (each dark module is one filled square)."""
    reader = PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    stream = ContentStream(page.get_contents(), reader)
    squares = [
        tuple(float(v) for v in operands)
        for operands, operator in stream.operations
        if operator == b"re" and abs(float(operands[2]) - float(operands[3])) < 1e-6
    ]
    module = Counter(round(s[2], 4) for s in squares).most_common(1)[0][0]
    squares = [s for s in squares if round(s[2], 4) == module]
    left, top = min(s[0] for s in squares), max(s[1] for s in squares)
    cells = {(round((top - y) / module), round((x - left) / module)) for x, y, _w, _h in squares}
    size = max(c for _r, c in cells) + 1
    return [[(row, col) in cells for col in range(size)] for row in range(size)]


def test_the_qr_code_encodes_the_verification_url(clerk, case):
    notice = issue(case, NoticeKind.APPROVAL_ESTABLISHMENT, clerk)
    url = f"https://zwfw.example.gov.cn/portal/verify/{notice.verification_code}/"
    assert notice.content["verify_url"] == url
    expected = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    expected.add_data(url)
    expected.make(fit=True)
    data = notice.file.read()
    assert qr_modules_in_pdf(data) == expected.get_matrix()
    # The code is also a link, for readers of the PDF on screen.
    annotations = [a.get_object() for a in PdfReader(io.BytesIO(data)).pages[0]["/Annots"]]
    assert [a["/A"]["/URI"] for a in annotations] == [url]


# --- Chinese dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "arabic", "hanzi"),
    [
        (dt.date(2023, 3, 1), "2023年3月1日", "二〇二三年三月一日"),
        (dt.date(2020, 10, 20), "2020年10月20日", "二〇二〇年十月二十日"),
        (dt.date(2023, 12, 31), "2023年12月31日", "二〇二三年十二月三十一日"),
        (dt.date(2009, 11, 15), "2009年11月15日", "二〇〇九年十一月十五日"),
    ],
)
def test_chinese_dates(day, arabic, hanzi):
    assert pdf.chinese_date(day) == arabic
    assert pdf.chinese_date(day, hanzi=True) == hanzi


def test_a_utc_timestamp_is_dated_in_beijing_time():
    late = dt.datetime(2023, 3, 1, 17, 30, tzinfo=dt.UTC)  # 01:30 on 2 March in Guangzhou
    assert pdf.chinese_date(late) == "2023年3月2日"


def test_markup_in_names_prints_as_typed():
    spec = pdf.DocumentSpec(
        title="测试",
        created_at=at(dt.date(2023, 3, 1)),
        addressee="A&B <贸易> 有限公司",
        blocks=[pdf.Text("名称含 <b>标记</b> & 符号")],
    )
    text = pdf_text(pdf.render_pdf(spec))
    assert "A&B<贸易>有限公司：" in text
    assert "名称含<b>标记</b>&符号" in text
