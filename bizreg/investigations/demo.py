"""Demo year of identity-misuse investigations, replayed day by day through the real services.

About 60 reports a year (专责小组 referrals, the victims' own applications on the portal or at the window,
and a few found by the bureau itself), each taken from intake through acceptance, field check, evidence,
the 45-day notice where the enterprise cannot be reached, the manager's decision, the decision letter,
closing and the victim's satisfaction survey. Reports are received within the year; the cases open at its
end are worked on into the next (until DemoContext.settled_until), so none shows as years overdue.
The investigator's work in hand is seeder `investigations.today` (two cases of the last working day).

One of them is the ring of the enterprises demo (enterprises.demo.identity_misuse_ring): a referral about
one victim, a victim's own application on the portal about another, the link graph showing the agent
behind all twelve, the twelve revoked together and the agent put on the 3-year list.

Each step runs under core.demo.simulated_now, so every record is dated on the day the step was taken.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bizreg.core.demo import DemoContext, register_seeder, simulated_now
from bizreg.core.identifiers import build_resident_id
from bizreg.core.workdays import add_working_days, is_working_day
from bizreg.enterprises.demo import identity_misuse_ring
from bizreg.enterprises.selectors import enterprises_visible_to, register_match
from bizreg.investigations.models import (
    CaseState,
    DecisionOutcome,
    DocumentKind,
    EvidenceKind,
    FieldCheckResult,
    InvestigationCase,
    NonRevocationGround,
    ReportSource,
    SuspensionGround,
    VerificationMethod,
    VerificationResult,
)
from bizreg.investigations.services import cases as case_services
from bizreg.investigations.services import documents, evidence, field_checks, intake, survey, verification
from bizreg.registration.selectors.people import enterprises_with_cases_after_establishment

CASES_PER_YEAR = 60
LEGAL_BASIS = "《市场主体登记管理条例》第四十条、《市场主体登记管理条例实施细则》第五十六条"
NOT_ACCEPTED_REASONS = (
    "申请人未能完成身份核验，经告知后未补正",
    "所涉企业登记机关不在本区，已告知向登记机关提出",
    "申请人所述情形系股权转让纠纷，不属于冒用身份登记，已告知通过民事诉讼解决",
)
NARRATIVES = (
    "本人身份证于{year}年遗失，近日收到税务通知才得知被登记为该企业的法定代表人，本人从未申请设立。",
    "本人从未到登记机关或网上办理过任何企业登记，该企业的签名均非本人所签。",
    "本人在外地务工，被他人借用身份证后登记为企业股东，现要求撤销。",
    "专责小组核查发现该企业登记的法定代表人身份信息系冒用，当事人已到场确认。",
)
FINDINGS = {
    FieldCheckResult.NOT_FOUND: "登记住所为他人经营场所，负责人称从未有该企业在此经营，物业亦无租赁记录。",
    FieldCheckResult.VACANT: "登记住所长期空置，门口堆积信件，无经营迹象。",
    FieldCheckResult.ADDRESS_MISSING: "登记住所门牌号不存在，经社区工作人员确认无此地址。",
    FieldCheckResult.OPERATING: "登记住所有该企业经营，实际经营人承认使用他人身份证件办理登记。",
}
SURNAMES = "陈李黄张梁林刘吴何罗郑谢冯邓曾彭萧蔡潘"
GIVEN = ("志强", "伟明", "家豪", "嘉欣", "俊杰", "丽华", "振华", "晓东", "文辉", "海燕", "永强", "建新")
_TZ = ZoneInfo(settings.TIME_ZONE)


@dataclass
class _Cast:
    investigator: object
    manager: object


def _moment(day: dt.date, rng: random.Random, *, start: int = 9, end: int = 17) -> dt.datetime:
    minutes = rng.randrange(0, (end - start) * 60)
    return dt.datetime.combine(day, dt.time(start), tzinfo=_TZ) + dt.timedelta(minutes=minutes)


def _working_day_on_or_after(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def _photo(rng: random.Random, name: str) -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (96, 72), tuple(rng.randrange(60, 220) for _ in range(3))).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _person(rng: random.Random, year: int) -> tuple[str, str]:
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    birth = dt.date(rng.randint(1965, 1999), rng.randint(1, 12), rng.randint(1, 28))
    return name, build_resident_id(
        rng.choice(("440115", "440111", "440106", "445102")), birth, rng.randrange(1, 999)
    )


class _Replay:
    """One case's steps in date order; stops (leaving the case open) at the first step past
    DemoContext.settled_until."""

    def __init__(
        self, ctx: DemoContext, cast: _Cast, rng: random.Random, *, until: dt.datetime | None = None
    ):
        self.ctx = ctx
        self.cast = cast
        self.rng = rng
        self.settled_until = until or ctx.settled_until

    def at(self, day: dt.date):
        moment = _moment(day, self.rng)
        if moment > self.settled_until:
            raise _YearOver
        return simulated_now(moment)

    def later(self, day: dt.date, working_days: int) -> dt.date:
        return add_working_days(day, working_days)


class _YearOver(Exception):
    """The next step would fall after the demo's work is settled: the case stays as it is."""


def _receive(
    replay: _Replay, day: dt.date, *, source: str, victim: tuple[str, str], enterprise, rng
) -> object:
    ctx, cast = replay.ctx, replay.cast
    portal = source == ReportSource.VICTIM and rng.random() < 0.5
    method = {
        ReportSource.TASK_FORCE: VerificationMethod.TASK_FORCE,
        ReportSource.EX_OFFICIO: VerificationMethod.NOT_APPLICABLE,
    }.get(source, VerificationMethod.ONLINE_FACE if portal else VerificationMethod.OFFLINE_WINDOW)
    with replay.at(day):
        return intake.report_receive(
            authority=ctx.authority,
            source=source,
            reporter={
                "name": victim[0],
                "id_number": victim[1],
                "phone": "13" + "".join(rng.choice("0123456789") for _ in range(9)),
            },
            verification_method=method,
            verification_result=VerificationResult.PENDING if portal else VerificationResult.PASSED,
            verification_note="" if portal else "核验身份证原件，人证一致",
            narrative=rng.choice(NARRATIVES).format(year=ctx.year - 1),
            enterprises=[{"name": enterprise.name, "uscc": enterprise.uscc}],
            referral_reference=f"专责小组转〔{ctx.year}〕{rng.randint(1, 99)}号"
            if source == ReportSource.TASK_FORCE
            else "",
            actor=None if portal else cast.investigator,
            via_portal=portal,
        )


def _investigate(replay: _Replay, case, day: dt.date, *, enterprise, result: str, rng) -> dt.date:
    """Field check with contact attempts and a photo; returns the day the report was submitted."""
    cast = replay.cast
    with replay.at(day):
        check = field_checks.field_check_assign(
            case=_refresh(case),
            actor=cast.investigator,
            enterprise=enterprise,
            address=enterprise.address,
            assigned_to=cast.investigator,
            due_on=replay.later(day, 5),
        )
    visit = replay.later(day, rng.randint(1, 4))
    with replay.at(visit):
        for n in range(rng.randint(1, 3)):
            field_checks.contact_attempt_add(
                field_check=check,
                actor=cast.investigator,
                attempted_at=timezone.now() - dt.timedelta(days=n, hours=1),
                method=rng.choice(("phone", "visit", "sms")),
                target="企业登记联系电话" if n == 0 else "登记住所",
                reached=result == FieldCheckResult.OPERATING and n == 0,
                note="空号" if result != FieldCheckResult.OPERATING else "实际经营人接听",
            )
        evidence.evidence_add(
            case=_refresh(case),
            actor=cast.investigator,
            upload=_photo(rng, f"{case.number}_现场照片.png"),
            kind=EvidenceKind.PHOTO,
            description="登记住所现场照片",
            field_check=check,
        )
        field_checks.field_check_submit(
            field_check=check,
            actor=cast.investigator,
            visited_at=timezone.now() - dt.timedelta(minutes=30),
            result=result,
            findings=FINDINGS[result],
        )
    return visit


def _refresh(case) -> InvestigationCase:
    return InvestigationCase.objects.get(pk=case.pk)


def _decide_and_close(replay: _Replay, case, day: dt.date, *, outcome: str, culprit, rng, items=()) -> None:
    cast = replay.cast
    persons = [{"name": culprit[0], "id_number": culprit[1], "role": "委托代理人"}] if culprit else []
    kwargs = {
        DecisionOutcome.REVOKE_ALL: {"responsible_persons": persons},
        DecisionOutcome.REVOKE_ITEMS: {"items": list(items), "responsible_persons": persons},
        DecisionOutcome.NOT_REVOKED: {"non_revocation_ground": NonRevocationGround.CONFIRMED},
        DecisionOutcome.REFER_POLICE: {
            "police_reference": f"南公转〔{replay.ctx.year}〕{rng.randint(10, 99)}号"
        },
    }[outcome]
    reasoning = {
        DecisionOutcome.NOT_REVOKED: "经核查，被冒用人事后确认知情并同意担任该职务，不属于冒用身份登记。",
        DecisionOutcome.REFER_POLICE: "经调查，涉嫌伪造身份证件，已移送公安机关依法处理。",
    }.get(outcome, "经调查核实，该登记系冒用他人身份信息办理，依法予以撤销。")
    with replay.at(day):
        case_services.case_decide(
            case=_refresh(case),
            actor=cast.manager,
            outcome=outcome,
            legal_basis=LEGAL_BASIS,
            reasoning=reasoning,
            **kwargs,
        )
        documents.document_issue(case=_refresh(case), kind=DocumentKind.DECISION, actor=cast.manager)
    closing = replay.later(day, rng.randint(1, 3))
    with replay.at(closing):
        closed = case_services.case_close(case=_refresh(case), actor=cast.investigator)
    answered = closing + dt.timedelta(days=rng.randint(1, 6))
    if rng.random() < 0.8:
        with replay.at(answered):
            survey.survey_answer(
                token=closed.survey.token,
                score=rng.choices((5, 4, 3, 2), weights=(60, 31, 6, 3))[0],
                comment=rng.choice(("", "处理及时，感谢", "希望加快处理速度", "工作人员耐心细致")),
            )


def _one_case(replay: _Replay, day: dt.date, enterprise, rng) -> None:
    ctx, cast = replay.ctx, replay.cast
    source = rng.choices(
        (ReportSource.TASK_FORCE, ReportSource.VICTIM, ReportSource.EX_OFFICIO), weights=(60, 33, 7)
    )[0]
    victim = (enterprise.legal_rep_name, enterprise.legal_rep_id_number)
    report = _receive(replay, day, source=source, victim=victim, enterprise=enterprise, rng=rng)
    case = report.case
    if report.verification_result == VerificationResult.PENDING:
        day = replay.later(day, 1)
        with replay.at(day):
            verification.report_verify(
                report=report, actor=cast.investigator, result="passed", note="窗口核验身份证原件，人证一致"
            )
    decided = replay.later(day, rng.choice((1, 1, 2, 3)))
    if rng.random() < 0.1:
        with replay.at(decided):
            case = case_services.case_not_accept(
                case=_refresh(case), actor=cast.investigator, reason=rng.choice(NOT_ACCEPTED_REASONS)
            )
            case_services.case_close(case=case, actor=cast.investigator)
        return
    with replay.at(decided):
        case_services.case_accept(case=_refresh(case), actor=cast.investigator, reason="材料齐全，身份已核验")
    reachable = rng.random() < 0.4
    result = (
        FieldCheckResult.OPERATING
        if reachable
        else rng.choice(
            (
                FieldCheckResult.NOT_FOUND,
                FieldCheckResult.NOT_FOUND,
                FieldCheckResult.VACANT,
                FieldCheckResult.ADDRESS_MISSING,
            )
        )
    )
    visited = _investigate(
        replay, case, replay.later(decided, 1), enterprise=enterprise, result=result, rng=rng
    )
    culprit = _person(rng, ctx.year)
    if rng.random() < 0.06:
        start = replay.later(visited, 1)
        with replay.at(start):
            case_services.case_suspend(
                case=_refresh(case),
                actor=cast.investigator,
                ground=SuspensionGround.CIVIL_DISPUTE,
                reason="当事人就股权归属提起民事诉讼，待法院判决",
            )
        visited = start + dt.timedelta(days=rng.randint(14, 40))
        visited = _working_day_on_or_after(visited)
        with replay.at(visited):
            case_services.case_resume(case=_refresh(case), actor=cast.investigator, reason="法院已作出判决")
    if not reachable:
        notice_day = replay.later(visited, 1)
        with replay.at(notice_day):
            case_services.case_start_notice(
                case=_refresh(case), actor=cast.investigator, reason="实地核查无法联系企业，依法公示"
            )
            documents.document_issue(
                case=_refresh(case), kind=DocumentKind.PUBLIC_NOTICE, actor=cast.investigator
            )
        decide_day = _working_day_on_or_after(notice_day + dt.timedelta(days=46))
        _decide_and_close(
            replay, case, decide_day, outcome=DecisionOutcome.REVOKE_ALL, culprit=culprit, rng=rng
        )
        return
    outcome = rng.choices(
        (
            DecisionOutcome.REVOKE_ALL,
            DecisionOutcome.REVOKE_ITEMS,
            DecisionOutcome.NOT_REVOKED,
            DecisionOutcome.REFER_POLICE,
        ),
        weights=(30, 25, 30, 15),
    )[0]
    decide_day = replay.later(visited, rng.randint(5, 20))
    if rng.random() < 0.08:
        # Statements still to be taken from people out of town: the manager grants the one extension.
        with replay.at(replay.later(visited, 1)):
            case_services.case_extend(
                case=_refresh(case), actor=cast.manager, reason="需向外地当事人调取询问笔录，批准延长 3 个月"
            )
        decide_day = replay.later(decide_day, rng.randint(20, 40))
    with replay.at(replay.later(visited, 2)):
        documents.document_issue(
            case=_refresh(case),
            kind=DocumentKind.OPINION,
            actor=cast.investigator,
            opinion="经实地核查与询问，登记材料上的签名非被冒用人本人所签，建议依法处理。",
            legal_basis=LEGAL_BASIS,
        )
    _decide_and_close(
        replay,
        case,
        decide_day,
        outcome=outcome,
        culprit=culprit if outcome in (DecisionOutcome.REVOKE_ALL, DecisionOutcome.REVOKE_ITEMS) else None,
        rng=rng,
        items=("legal_rep",),
    )


def _ring(replay: _Replay, rng: random.Random) -> None:
    """The ring: a referral about the first victim, the link graph, the other eleven enterprises added,
    a second victim's portal application merged in, three field checks, the notice, one decision for all."""
    ctx, cast = replay.ctx, replay.cast
    ring = identity_misuse_ring(ctx.year)
    enterprises = [register_match(uscc=e.uscc) for e in ring.enterprises]
    if any(e is None for e in enterprises):
        ctx.log("  冒用身份示例企业不在登记簿中，跳过团伙案件")
        return
    first = ring.enterprises[0]
    received = _working_day_on_or_after(dt.date(ctx.year, 10, 23))
    report = _receive(
        replay,
        received,
        source=ReportSource.TASK_FORCE,
        victim=(first.victim_name, first.victim_id_number),
        enterprise=enterprises[0],
        rng=rng,
    )
    case = report.case
    second = ring.enterprises[1]
    portal = _receive(
        replay,
        received,
        source=ReportSource.VICTIM,
        victim=(second.victim_name, second.victim_id_number),
        enterprise=enterprises[1],
        rng=random.Random(1),  # 0.5 < first draw: the portal
    )
    accepted = replay.later(received, 1)
    with replay.at(accepted):
        if portal.verification_result == VerificationResult.PENDING:
            verification.report_verify(
                report=portal, actor=cast.investigator, result="passed", note="线上实名认证通过"
            )
        case_services.case_accept(
            case=_refresh(case), actor=cast.investigator, reason="专责小组转办，身份已核验"
        )
        case_services.case_merge(
            case=_refresh(portal.case),
            into=_refresh(case),
            actor=cast.investigator,
            reason="关联分析：同一委托代理人办理，并案调查",
        )
        already = set(_refresh(case).enterprises.values_list("enterprise_id", flat=True))
        for enterprise in (e for e in enterprises if e.pk not in already):
            case_services.case_add_enterprise(
                case=_refresh(case),
                enterprise=enterprise,
                actor=cast.investigator,
                reason=f"关联分析：与本案企业同一委托代理人（{ring.agent_name}）办理登记",
            )
    visited = accepted
    for n, address in enumerate(ring.addresses):
        target = next(e for e in enterprises if e.address.replace(" ", "") == address.replace(" ", ""))
        visited = _investigate(
            replay,
            case,
            replay.later(accepted, 1 + n),
            enterprise=target,
            result=FieldCheckResult.NOT_FOUND,
            rng=rng,
        )
    notice_day = replay.later(visited, 1)
    with replay.at(notice_day):
        case_services.case_start_notice(
            case=_refresh(case),
            actor=cast.investigator,
            reason="12 户企业登记住所均无经营，代理人电话无法接通",
        )
        documents.document_issue(
            case=_refresh(case), kind=DocumentKind.PUBLIC_NOTICE, actor=cast.investigator
        )
    decide_day = _working_day_on_or_after(notice_day + dt.timedelta(days=46))
    _decide_and_close(
        replay,
        case,
        decide_day,
        outcome=DecisionOutcome.REVOKE_ALL,
        culprit=(ring.agent_name, ring.agent_id_number),
        rng=rng,
    )


def _demo_cast() -> _Cast | None:
    User = get_user_model()
    investigator = User.objects.filter(username="investigator").first()
    manager = User.objects.filter(username="manager").first()
    if investigator is None or manager is None:
        return None
    return _Cast(investigator=investigator, manager=manager)


def _free_enterprises(ctx: DemoContext, cast: _Cast, *, order: str, limit: int) -> list:
    """Active enterprises of the demo year, not the ring's, not locked, and that the registration demo did
    not work on after their establishment (an enterprise under investigation is locked, so no demo case
    acts on a locked one): the first `limit` by `order`, those kept."""
    ring_usccs = {e.uscc for e in identity_misuse_ring(ctx.year).enterprises}
    pool = [
        e
        for e in enterprises_visible_to(cast.manager)
        .filter(authority=ctx.authority, status="active", established_on__year=ctx.year, locks=None)
        .order_by(order)[:limit]
        if e.uscc not in ring_usccs
    ]
    worked_on = enterprises_with_cases_after_establishment(e.pk for e in pool)
    return [e for e in pool if e.pk not in worked_on]


@register_seeder(
    "investigations.year",
    after=("accounts.demo_users", "enterprises.identity_ring", "registration.year"),
)
def seed_investigations_year(ctx: DemoContext) -> int:
    cast = _demo_cast()
    if cast is None:
        ctx.log("  没有调查人员或负责人演示用户，跳过冒用身份案件")
        return 0
    rng = ctx.rng("investigations.year")
    replay = _Replay(ctx, cast, rng)
    count = max(3, round(CASES_PER_YEAR * ctx.scale))
    candidates = _free_enterprises(ctx, cast, order="pk", limit=count * 8)
    chosen = rng.sample(candidates, min(count, len(candidates)))
    days = sorted(
        _working_day_on_or_after(dt.date(ctx.year, 1, 3) + dt.timedelta(days=rng.randrange(0, 345)))
        for _ in chosen
    )
    for day, enterprise in zip(days, chosen, strict=True):
        received = max(day, enterprise.established_on + dt.timedelta(days=20))
        if received.year > ctx.year:
            continue  # reports are received within the year
        with contextlib.suppress(_YearOver):
            _one_case(replay, received, enterprise, rng)
    with contextlib.suppress(_YearOver):
        _ring(replay, rng)
    total = InvestigationCase.objects.filter(authority=ctx.authority).count()
    open_count = InvestigationCase.objects.filter(
        authority=ctx.authority,
        state__in=[CaseState.RECEIVED, CaseState.INVESTIGATING, CaseState.SUSPENDED, CaseState.PUBLIC_NOTICE],
    ).count()
    ctx.log(f"  冒用身份案件 {total} 件（仍在办 {open_count} 件），含 1 起团伙虚假登记")
    return total


@register_seeder("investigations.today", after=("investigations.year", "registration.today"))
def seed_investigations_today(ctx: DemoContext) -> int:
    """The investigator's work in hand (the year's cases are all decided, core.demo): a 专责小组 referral
    accepted on the last working day with its field check assigned (the enterprise locked), and a victim's
    report received then, waiting to be accepted. Through the services, dated on those days; on
    enterprises of the demo year nobody has a case open on."""
    cast = _demo_cast()
    if cast is None:
        ctx.log("  没有调查人员或负责人演示用户，跳过当前在办案件")
        return 0
    investigator = cast.investigator
    rng = ctx.rng("investigations.today")
    replay = _Replay(ctx, cast, rng, until=timezone.now())
    last = add_working_days(timezone.localdate(), -1)
    referred, reported = _free_enterprises(ctx, cast, order="-pk", limit=200)[:2]

    def receive(enterprise, source: str):
        victim = (enterprise.legal_rep_name, enterprise.legal_rep_id_number)
        return _receive(replay, last, source=source, victim=victim, enterprise=enterprise, rng=rng)

    report = receive(referred, ReportSource.TASK_FORCE)
    with simulated_now(report.received_at + dt.timedelta(hours=1)):
        case = case_services.case_accept(
            case=_refresh(report.case), actor=investigator, reason="专责小组转办，身份已核验"
        )
        field_checks.field_check_assign(
            case=_refresh(case),
            actor=investigator,
            enterprise=referred,
            address=referred.address,
            assigned_to=investigator,
            due_on=replay.later(last, 5),
        )
    receive(reported, ReportSource.VICTIM)
    ctx.log("  当前在办冒用身份案件 2 件（上一工作日收件）")
    return 2
