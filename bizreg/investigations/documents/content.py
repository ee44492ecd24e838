"""The texts of the four investigation documents, written from the case's records into a JSON-able dict.

Everything a document shows is decided here, once, at issuing time; the stored dict is then the only
input of the PDF and the .docx (documents.rendering), so the two always say the same thing and a later
change of the case's records never changes an issued document.

Personal data. The documents go to the parties (the person whose identity was used, the enterprise and
its interested parties) and the public notice to everyone, so ID numbers are masked (4401**********1234)
everywhere — with one exception: the decision letter is addressed to the person whose identity was used
and shows their own ID number in full, because the decision must identify its addressee beyond doubt
(they present it to banks, tax offices and courts to clear their name) and it tells them nothing they do
not already know. The responsible persons' IDs stay masked there too. The public notice names that
person by surname only (张*) and carries no ID number at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from bizreg.core import pdf
from bizreg.core.masking import mask_id_number, mask_person_name
from bizreg.enterprises import selectors as register
from bizreg.investigations.models import (
    CaseEnterprise,
    CaseEvent,
    CaseState,
    ContactAttempt,
    Decision,
    DecisionOutcome,
    DocumentKind,
    Evidence,
    FieldCheck,
    FieldCheckState,
    InvestigationCase,
    NoticeObjection,
    RegistrationBan,
    Report,
    ReportedEnterprise,
    ReportSource,
)

REGULATION = "《中华人民共和国市场主体登记管理条例》"
RULES = "《中华人民共和国市场主体登记管理条例实施细则》"
LEGAL_FRAME = f"{REGULATION}第四十条至第四十二条、{RULES}第五十条至第五十八条关于撤销虚假市场主体登记的规定"
NOTICE_DAYS = 45
BAN_YEARS = 3
# Evidence is cited by the start of its SHA-256: enough to tell files apart and to match a copy by eye.
SHA_SHORT = 16

TITLES = {
    DocumentKind.OPINION: "专业意见书",
    DocumentKind.DUE_DILIGENCE: "尽职调查报告",
    DocumentKind.PUBLIC_NOTICE: "公告",
}
DECISION_TITLES = {
    DecisionOutcome.REVOKE_ALL: "撤销登记决定书",
    DecisionOutcome.REVOKE_ITEMS: "撤销登记事项决定书",
    DecisionOutcome.NOT_REVOKED: "不予撤销登记决定书",
    DecisionOutcome.REFER_POLICE: "移送决定书",
}


# --- small pieces ---------------------------------------------------------------------------------------


def _text(text: str, *, indent: bool = True) -> dict:
    return {"type": "text", "text": text, "indent": indent}


def _heading(text: str) -> dict:
    return {"type": "heading", "text": text}


def _facts(*pairs: tuple[str, str]) -> dict:
    return {"type": "facts", "pairs": [[label, value] for label, value in pairs if value]}


def _table(header: tuple[str, ...], rows: list[list[str]], widths: tuple[float, ...]) -> dict:
    return {"type": "table", "rows": [list(header), *rows], "widths": list(widths)}


def _list(items: list[str]) -> dict:
    return {"type": "list", "items": items}


def _paragraphs(text: str) -> list[dict]:
    return [_text(line.strip()) for line in (text or "").splitlines() if line.strip()]


def _date(value: dt.date | dt.datetime | None) -> str:
    return pdf.chinese_date(value) if value else "—"


def _moment(value: dt.datetime | None) -> str:
    if value is None:
        return "—"
    local = timezone.localtime(value, timezone.get_default_timezone())
    return f"{local:%Y-%m-%d %H:%M}"


def _who(user) -> str:
    return str(user) if user is not None else "系统"


def _sentence(text: str) -> str:
    """The text ending in one full stop, whatever the writer typed at the end."""
    text = (text or "").strip().rstrip("。.；;，,")
    return f"{text}。" if text else ""


def _enterprise_label(enterprise) -> str:
    return f"{enterprise.name}（统一社会信用代码：{enterprise.uscc}）"


def _enterprise_names(enterprises: list) -> str:
    return "、".join(e.name for e in enterprises) or "有关市场主体"


def _victim(case: InvestigationCase, *, full: bool = False) -> str:
    id_text = case.victim_id_number if full else mask_id_number(case.victim_id_number)
    return f"{case.victim_name}（公民身份号码：{id_text}）"


# --- reads of the case ----------------------------------------------------------------------------------


def _enterprises(case: InvestigationCase) -> list:
    rows = CaseEnterprise.objects.filter(case=case).select_related("enterprise").order_by("added_at", "id")
    return [row.enterprise for row in rows]


def _reports(case: InvestigationCase) -> list[Report]:
    return list(Report.objects.filter(case=case).order_by("received_at", "id"))


def _current_evidence(case: InvestigationCase) -> list[Evidence]:
    """The evidence as it stands: a corrected piece is cited by its latest version only."""
    return list(Evidence.objects.filter(case=case, superseded_by__isnull=True).order_by("uploaded_at", "id"))


def _field_checks(case: InvestigationCase) -> list[FieldCheck]:
    return list(
        FieldCheck.objects.filter(case=case)
        .exclude(state=FieldCheckState.SUPERSEDED)
        .select_related("enterprise", "assigned_to")
        .order_by("created_at", "id")
    )


def _evidence_table(evidence: list[Evidence]) -> dict:
    rows = [
        [str(n), item.get_kind_display(), item.description, item.file_name, item.sha256[:SHA_SHORT]]
        for n, item in enumerate(evidence, start=1)
    ]
    return _table(
        ("序号", "类型", "证明内容", "文件", f"SHA-256（前{SHA_SHORT}位）"), rows, (12, 24, 50, 36, 36)
    )


def _evidence_blocks(case: InvestigationCase) -> list[dict]:
    evidence = _current_evidence(case)
    if not evidence:
        return [_text("本案尚无证据材料。")]
    return [
        _text(f"本案共有证据材料{len(evidence)}份，均已登记其SHA-256校验值，存档文件可据此核对未被改动。"),
        _evidence_table(evidence),
    ]


def _field_check_sentence(check: FieldCheck) -> str:
    where = check.address + (f"（{check.enterprise.name}）" if check.enterprise_id else "")
    if check.state != FieldCheckState.SUBMITTED:
        return (
            f"已指派{_who(check.assigned_to)}赴{where}实地核查，要求{_date(check.due_on)}前完成，"
            "尚未提交核查报告。"
        )
    version = f"（第{check.version}版，更正理由：{check.correction_reason}）" if check.version > 1 else ""
    findings = _sentence(check.findings)
    return (
        f"{_date(check.visited_at)}，{_who(check.assigned_to)}赴{where}实地核查{version}，"
        f"核查结果：{check.get_result_display()}。{findings}"
    )


def _source_sentence(case: InvestigationCase, enterprises: list, *, victim: str, own: str = "其") -> str:
    """How the case began. `victim` names the person whose identity was used, `own` is the possessive
    the victim's own application uses for them (其, or 你的 in the letter addressed to them)."""
    names = _enterprise_names(enterprises)
    day = _date(case.received_on)
    accepted = f"本机关于{_date(case.accepted_on)}依法受理，并开展了调查。" if case.accepted_on else ""
    if case.source == ReportSource.VICTIM:
        return f"{day}，{victim}向本机关提出申请，反映{names}在办理登记时冒用{own}身份信息。{accepted}"
    if case.source == ReportSource.TASK_FORCE:
        return f"{day}，本机关收到专责小组转办线索，反映{names}在办理登记时冒用{victim}的身份信息。{accepted}"
    opened = f"本机关于{_date(case.accepted_on)}立案调查。" if case.accepted_on else ""
    return f"{day}，本机关在工作中发现{names}在办理登记时涉嫌冒用{victim}的身份信息。{opened}"


def _case_facts(case: InvestigationCase, enterprises: list) -> dict:
    return _facts(
        ("案件编号", case.number),
        ("案由", case.summary),
        ("线索来源", case.get_source_display()),
        ("收到日期", _date(case.received_on)),
        ("受理日期", _date(case.accepted_on)),
        ("被冒用人", _victim(case)),
        ("涉案企业", _enterprise_names(enterprises)),
    )


def _notice_period(case: InvestigationCase, issued_on: dt.date) -> tuple[dt.date, dt.date]:
    """The 45-day notice period as the case records it (services.cases.case_start_notice); should it be
    unset, counted the same way from the day of this notice."""
    start = case.notice_started_on or issued_on
    end = case.notice_ends_on or start + dt.timedelta(days=NOTICE_DAYS)
    return start, end


# --- the four documents ---------------------------------------------------------------------------------


def _opinion(case: InvestigationCase, *, actor, opinion: str, legal_basis: str) -> tuple[str, str, list]:
    enterprises = _enterprises(case)
    blocks: list[dict] = [_case_facts(case, enterprises), _heading("一、调查查明的事实")]
    blocks.append(_text(_source_sentence(case, enterprises, victim=_victim(case))))
    for report in _reports(case):
        verification = f"身份核验方式：{report.get_verification_method_display()}，核验结果：" + (
            f"{report.get_verification_result_display()}。{_sentence(report.verification_note)}"
        )
        blocks.append(
            _text(
                f"{_date(report.received_at)}收到的{report.get_source_display()}称：{_sentence(report.narrative)}"
            )
        )
        blocks.append(_text(verification))
    for enterprise in enterprises:
        blocks.append(
            _text(
                f"{_enterprise_label(enterprise)}成立于{_date(enterprise.established_on)}，登记住所为"
                f"{enterprise.address}，登记的法定代表人（负责人）为{enterprise.legal_rep_name}，"
                f"登记状态为{enterprise.get_status_display()}。"
            )
        )
    blocks.append(_heading("二、证据材料"))
    blocks.extend(_evidence_blocks(case))
    blocks.append(_heading("三、实地核查情况"))
    checks = _field_checks(case)
    if checks:
        blocks.append(_list([_field_check_sentence(check) for check in checks]))
    else:
        blocks.append(_text("本案未开展实地核查。"))
    blocks.append(_heading("四、调查意见"))
    blocks.extend(_paragraphs(opinion))
    blocks.append(_heading("五、拟适用的法律依据"))
    blocks.append(_text(_sentence(legal_basis)))
    blocks.append(_text(f"本案依照{LEGAL_FRAME}办理。以上意见，请审定。"))
    blocks.append(_text(f"承办人：{_who(actor)}", indent=False))
    return TITLES[DocumentKind.OPINION], "", blocks


def _due_diligence(case: InvestigationCase, *, actor, opinion: str) -> tuple[str, str, list]:
    enterprises = _enterprises(case)
    blocks: list[dict] = [
        _facts(
            ("案件编号", case.number),
            ("案由", case.summary),
            ("线索来源", case.get_source_display()),
            ("收到日期", _date(case.received_on)),
            ("受理日期", _date(case.accepted_on)),
            ("调查期限", _date(case.investigation_due_on) + ("（已延期）" if case.extended else "")),
            ("案件状态", case.get_state_display()),
            ("承办人", _who(case.assigned_to)),
        ),
        _heading("一、线索、申请及身份核验情况"),
        _text(_source_sentence(case, enterprises, victim=_victim(case))),
    ]
    reports = _reports(case)
    rows = [
        [
            str(n),
            _date(report.received_at),
            report.get_source_display(),
            f"{report.reporter_name}\n{mask_id_number(report.reporter_id_number)}",
            report.get_verification_method_display(),
            report.get_verification_result_display(),
        ]
        for n, report in enumerate(reports, start=1)
    ]
    blocks.append(
        _table(
            ("序号", "收到日期", "来源", "申请人/被冒用人", "身份核验方式", "核验结果"),
            rows,
            (10, 26, 26, 44, 32, 20),
        )
    )
    for n, report in enumerate(reports, start=1):
        note = f"核验说明：{_sentence(report.verification_note)}" if report.verification_note else ""
        merged = f"并案说明：{_sentence(report.merged_reason)}" if report.merged_reason else ""
        blocks.append(_text(f"线索{n}：{_sentence(report.narrative)}{note}{merged}"))
    unmatched = list(
        ReportedEnterprise.objects.filter(report__case=case, unmatched=True)
        .order_by("id")
        .values_list("name_as_given", flat=True)
    )
    if unmatched:
        blocks.append(_text(f"所报企业中，{'、'.join(unmatched)}在登记簿中未找到，已记录待核。"))

    blocks.append(_heading("二、涉案企业及登记人员"))
    if not enterprises:
        blocks.append(_text("本案尚未确定涉案企业。"))
    for n, enterprise in enumerate(enterprises, start=1):
        blocks.append(
            _text(
                f"{n}．{_enterprise_label(enterprise)}，{enterprise.get_entity_type_display()}，成立于"
                f"{_date(enterprise.established_on)}，住所：{enterprise.address}，登记状态："
                f"{enterprise.get_status_display()}。登记的人员事项如下：",
                indent=False,
            )
        )
        persons = register.enterprise_persons(enterprise=enterprise, user=actor, full=False)
        if persons:
            blocks.append(
                _table(
                    ("职务/身份", "姓名", "公民身份号码", "任职/登记日期", "状态"),
                    [
                        [
                            p.role_label,
                            p.name,
                            p.id_number,
                            _date(p.started_on),
                            "现任" if p.is_current else f"{_date(p.ended_on)}终止",
                        ]
                        for p in persons
                    ],
                    (28, 24, 46, 30, 30),
                )
            )
        else:
            blocks.append(
                _text(f"登记簿仅记载法定代表人（负责人）{enterprise.legal_rep_name}。", indent=False)
            )

    blocks.append(_heading("三、实地核查及联系情况"))
    checks = _field_checks(case)
    if not checks:
        blocks.append(_text("本案未开展实地核查。"))
    attempts_by_check: dict[int, list[ContactAttempt]] = {}
    for attempt in ContactAttempt.objects.filter(field_check__in=checks).order_by("attempted_at", "id"):
        attempts_by_check.setdefault(attempt.field_check_id, []).append(attempt)
    for n, check in enumerate(checks, start=1):
        blocks.append(_text(f"{n}．{_field_check_sentence(check)}", indent=False))
        attempts = attempts_by_check.get(check.pk, [])
        if attempts:
            blocks.append(
                _table(
                    ("联系时间", "方式", "联系对象", "结果", "情况"),
                    [
                        [
                            _moment(a.attempted_at),
                            a.get_method_display(),
                            a.target,
                            "已联系上" if a.reached else "未联系上",
                            a.note,
                        ]
                        for a in attempts
                    ],
                    (34, 16, 36, 22, 50),
                )
            )

    blocks.append(_heading("四、证据材料"))
    blocks.extend(_evidence_blocks(case))

    blocks.append(_heading("五、办理过程"))
    labels = dict(CaseState.choices)
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("occurred_at", "id")
    rows = [
        [
            _moment(event.occurred_at),
            event.label,
            _state_change(event, labels),
            _who(event.actor),
            event.reason,
        ]
        for event in events
    ]
    if rows:
        blocks.append(_table(("时间", "操作", "状态变化", "操作人", "理由/说明"), rows, (34, 28, 28, 20, 48)))
    else:
        blocks.append(_text("本案尚无流转记录。"))
    if opinion.strip():
        blocks.append(_heading("六、调查人员意见"))
        blocks.extend(_paragraphs(opinion))
    blocks.append(_text(f"调查人员：{_who(actor)}", indent=False))
    return TITLES[DocumentKind.DUE_DILIGENCE], "", blocks


def _state_change(event: CaseEvent, labels: dict[str, str]) -> str:
    if not (event.from_state and event.to_state) or event.from_state == event.to_state:
        return ""
    return f"{labels.get(event.from_state, event.from_state)}→{labels.get(event.to_state, event.to_state)}"


def _remedies(profile) -> str:
    review = f"向{profile.review_body}" if profile is not None and profile.review_body else "依法"
    court = f"向{profile.court}" if profile is not None and profile.court else "向人民法院"
    return (
        f"如不服本决定，可以自收到本决定书之日起六十日内{review}申请行政复议，"
        f"也可以自收到本决定书之日起六个月内依法{court}提起行政诉讼。"
    )


def _decision(case: InvestigationCase, *, decision: Decision, profile) -> tuple[str, str, list]:
    enterprises = _enterprises(case)
    labels = "、".join(_enterprise_label(e) for e in enterprises) or "有关市场主体"
    basis = decision.legal_basis.strip().rstrip("。")
    # Addressed to the person whose identity was used: their own ID in full (see the module docstring).
    addressee = f"你（公民身份号码：{case.victim_id_number}）"
    blocks: list[dict] = [_text(_source_sentence(case, enterprises, victim=addressee, own="你的"))]
    if case.notice_started_on:
        start, end = _notice_period(case, case.notice_started_on)
        objections = NoticeObjection.objects.filter(case=case).count()
        heard = f"公示期内收到异议{objections}件。" if objections else "公示期内未收到异议。"
        blocks.append(
            _text(
                f"因相关市场主体和人员无法联系，本机关于{_date(start)}至{_date(end)}通过国家企业信用信息公示系统"
                f"对有关登记事项进行了公示，公示期为{NOTICE_DAYS}日。{heard}"
            )
        )
    blocks.append(_text(f"经查：{_sentence(decision.reasoning)}"))
    outcome = decision.outcome
    if outcome == DecisionOutcome.REVOKE_ALL:
        blocks.append(_text(f"根据{basis}的规定，本机关决定：撤销{labels}的市场主体登记。"))
    elif outcome == DecisionOutcome.REVOKE_ITEMS:
        blocks.append(_text(f"根据{basis}的规定，本机关决定：撤销{labels}的下列登记事项："))
        blocks.append(_list([str(item) for item in decision.items]))
    elif outcome == DecisionOutcome.NOT_REVOKED:
        ground = decision.get_non_revocation_ground_display() if decision.non_revocation_ground else ""
        because = f"理由：{_sentence(ground)}" if ground else ""
        blocks.append(_text(f"根据{basis}的规定，本机关决定：不予撤销{labels}的市场主体登记。{because}"))
    else:
        reference = f"（移送编号：{decision.police_reference}）" if decision.police_reference else ""
        blocks.append(
            _text(f"本案涉嫌犯罪。根据{basis}的规定，本机关决定：将本案移送公安机关依法处理{reference}。")
        )
    blocks.append(_facts(("法律依据", basis), ("决定日期", _date(decision.decided_at))))
    blocks.append(_text(f"本案依照{LEGAL_FRAME}办理。"))

    bans = list(RegistrationBan.objects.filter(case=case).order_by("starts_on", "id"))
    if outcome in (DecisionOutcome.REVOKE_ALL, DecisionOutcome.REVOKE_ITEMS) or bans:
        blocks.append(
            _text(
                f"根据{REGULATION}第四十条的规定，因虚假市场主体登记被撤销的市场主体，其直接责任人自市场主体登记"
                f"被撤销之日起{BAN_YEARS}年内不得再次申请市场主体登记，本机关将通过国家企业信用信息公示系统予以公示。"
                + ("经查，下列人员为直接责任人：" if bans else "")
            )
        )
        if bans:
            blocks.append(
                _table(
                    ("姓名", "公民身份号码", "在虚假登记中的身份", "限制登记期限"),
                    [
                        [
                            ban.name,
                            mask_id_number(ban.id_number),
                            ban.role,
                            f"{_date(ban.starts_on)}至{_date(ban.ends_on)}",
                        ]
                        for ban in bans
                    ],
                    (22, 44, 34, 58),
                )
            )
    blocks.append(_text(_remedies(profile)))
    return DECISION_TITLES[DecisionOutcome(outcome)], case.victim_name, blocks


def _public_notice(case: InvestigationCase, *, issued_on: dt.date, profile) -> tuple[str, str, list]:
    enterprises = _enterprises(case)
    start, end = _notice_period(case, issued_on)
    victim = mask_person_name(case.victim_name)
    blocks: list[dict] = [
        _text(
            f"本机关收到有关材料，反映下列市场主体在办理登记时涉嫌冒用他人（{victim}）身份信息，"
            f"提交虚假材料取得市场主体登记。本机关依法开展调查，经实地核查及电话、邮寄等方式联系，"
            f"无法与该市场主体及相关人员取得联系。根据{REGULATION}第四十条的规定，现将该市场主体的登记时间、"
            f"登记事项予以公示，公示期为{NOTICE_DAYS}日。"
        )
    ]
    for enterprise in enterprises:
        blocks.append(
            _facts(
                ("企业名称", enterprise.name),
                ("统一社会信用代码", enterprise.uscc),
                ("主体类型", enterprise.get_entity_type_display()),
                ("登记时间", _date(enterprise.established_on)),
                ("住所", enterprise.address),
                ("涉嫌情形", "涉嫌冒用他人身份信息取得市场主体登记"),
            )
        )
    blocks.append(_facts(("公示期", f"{NOTICE_DAYS}日，自{_date(start)}起至{_date(end)}止")))
    blocks.append(
        _text(
            "公示期内，上述市场主体及其利害关系人对公示事项有异议的，可以向本机关书面提出异议，写明异议人"
            "姓名或者名称、联系方式和异议理由，并附相关证明材料。"
        )
    )
    if profile is not None and (profile.address or profile.contact_phone):
        blocks.append(
            _facts(
                ("异议受理地址", profile.address),
                ("联系电话", profile.contact_phone),
                ("案件编号", case.number),
            )
        )
    else:
        blocks.append(_facts(("异议受理", "递交或者邮寄至本机关"), ("案件编号", case.number)))
    blocks.append(_text("公示期满无异议的，本机关将依法撤销上述市场主体登记。"))
    blocks.append(_text("特此公告。"))
    return TITLES[DocumentKind.PUBLIC_NOTICE], "", blocks


def build_content(
    *,
    case: InvestigationCase,
    kind: str,
    number: str,
    issued_at: dt.datetime,
    actor,
    profile=None,
    opinion: str = "",
    legal_basis: str = "",
) -> dict[str, Any]:
    """Everything the document shows, as stored in CaseDocument.content (the files are rendered from it)."""
    issued_on = timezone.localtime(issued_at, timezone.get_default_timezone()).date()
    if kind == DocumentKind.OPINION:
        title, addressee, blocks = _opinion(case, actor=actor, opinion=opinion, legal_basis=legal_basis)
    elif kind == DocumentKind.DUE_DILIGENCE:
        title, addressee, blocks = _due_diligence(case, actor=actor, opinion=opinion)
    elif kind == DocumentKind.DECISION:
        title, addressee, blocks = _decision(case, decision=case.decision, profile=profile)
    elif kind == DocumentKind.PUBLIC_NOTICE:
        title, addressee, blocks = _public_notice(case, issued_on=issued_on, profile=profile)
    else:
        raise ValueError(f"unknown document kind {kind!r}")
    return {
        "version": 1,
        "kind": str(kind),
        "kind_label": DocumentKind(kind).label,
        "title": title,
        "number": number,
        "addressee": addressee,
        "blocks": blocks,
        "issuer": case.authority.name,
        "issued_on": issued_on.isoformat(),
        "issued_at": issued_at.isoformat(),
        "date_text": pdf.chinese_date(issued_at, hanzi=True),
        "case_number": case.number,
        "footer_note": f"案件编号：{case.number}　文书编号：{number}",
    }
