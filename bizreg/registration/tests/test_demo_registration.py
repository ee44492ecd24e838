"""The demo year of the registration module: rows that tell one consistent story, made by the rules the
services follow (workflow, working days, numbering, serials, tracking numbers), and deterministic."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter, defaultdict

import pytest
from django.db.models import Count, Min
from django.utils import timezone

from bizreg.core.demo import DemoContext
from bizreg.core.models import Authority
from bizreg.core.workdays import add_working_days, working_days_between
from bizreg.registration import demo, metrics
from bizreg.registration.models import (
    CASE_WORKFLOW,
    CaseExtension,
    CaseState,
    CaseTransitionLog,
    CaseType,
    Channel,
    FollowUpTask,
    LicenceBatch,
    LicenceSheet,
    MailPackage,
    Notice,
    NoticeCounter,
    RegistrationCase,
    ServiceRecord,
)
from bizreg.registration.services.cases import CHANGE_FIELDS, case_working_days
from bizreg.registration.services.mail import validate_tracking_number
from bizreg.testing.demo import demo_year_fixture

SCALE = 0.02
YEAR = 2023
EXTRA_LOGS = {"request_extension", "approve_extension", "refuse_extension"}


demo_year = demo_year_fixture(SCALE)


@pytest.fixture
def authority(demo_year):
    return Authority.objects.get(code="440115")


pytestmark = pytest.mark.django_db


def test_scale_and_mix(authority, demo_year):
    assert "registration.year" in demo_year
    cases = RegistrationCase.objects.filter(authority=authority, received_at__year=YEAR)
    assert cases.count() == round(demo.CASES_AT_SCALE_1 * SCALE)
    by_type = Counter(cases.values_list("case_type", flat=True))
    assert by_type[CaseType.CHANGE] > by_type[CaseType.ESTABLISHMENT] > by_type[CaseType.DEREGISTRATION]
    assert by_type[CaseType.FILING] > by_type[CaseType.MIGRATION_OUT] > 0
    channels = Counter(cases.values_list("channel", flat=True))
    assert channels[Channel.FULL_ELECTRONIC] > channels[Channel.WINDOW] > channels[Channel.MAIL] > 0
    records = ServiceRecord.objects.filter(authority=authority)
    assert records.count() == round(demo.SERVICE_RECORDS_AT_SCALE_1 * SCALE)
    assert set(records.values_list("kind", flat=True)) == {"info_entry", "online_guidance"}
    # The year is history when the demo is looked at: every case of it ran to its end, those received in
    # its last days too (worked in the next year), so none is still on the statutory clock.
    states = Counter(cases.values_list("state", flat=True))
    assert set(states) == {CaseState.ARCHIVED}
    late = cases.filter(received_at__gte=dt.datetime(YEAR, 12, 25, tzinfo=timezone.get_default_timezone()))
    assert late.filter(decided_at__year=YEAR + 1).exists()


def test_the_year_is_the_window_teams_work_not_one_clerks(authority, demo_year):
    from bizreg.accounts.demo import WINDOW_COLLEAGUES

    team = 1 + len(WINDOW_COLLEAGUES)
    cases = RegistrationCase.objects.filter(authority=authority, received_at__year=YEAR)
    for rows, column in (
        (cases, "received_by__username"),
        (ServiceRecord.objects.filter(authority=authority), "staff__username"),
    ):
        per_person = Counter(rows.values_list(column, flat=True))
        assert len(per_person) == team, column
        assert max(per_person.values()) < 2 * rows.count() / team, column
    # The clerk who signs in to the demo has her share of the work to look at.
    assert cases.filter(received_by__username="clerk").count() > 0


def test_no_demo_case_shows_as_overdue(authority, role_users_demo, client):
    from bizreg.registration.selectors.cases import due_summary

    clerk = role_users_demo
    assert due_summary(user=clerk)["overdue"] == 0
    client.force_login(clerk)
    page = client.get("/registration/cases/?due=overdue")
    assert page.status_code == 200
    assert page.context["listing"].page.paginator.count == 0
    assert client.get("/registration/cases/").context["listing"].page.paginator.count > 0


def test_the_window_has_work_in_hand_from_the_last_three_working_days(authority, role_users_demo, client):
    """registration.today: nine cases received through the services over the three working days before the
    seed, each at an open step, so the clerk's lists and the head's extension queue have work in them."""
    from bizreg.registration import demo_today
    from bizreg.registration.selectors.cases import due_summary

    days = [add_working_days(timezone.localdate(), -back) for back in (1, 2, 3)]
    since = dt.datetime.combine(days[-1], dt.time(), tzinfo=timezone.get_default_timezone())
    current = RegistrationCase.objects.filter(authority=authority, received_at__gte=since)
    assert current.count() == len(demo_today.CASES) == 9
    assert Counter(current.values_list("state", flat=True)) == {
        CaseState.RECEIVED: 2,
        CaseState.RETURNED: 2,
        CaseState.PRE_REVIEWED: 1,
        CaseState.ACCEPTED: 4,
    }
    assert not current.filter(received_at__gte=timezone.now()).exists()
    assert set(current.values_list("received_by__username", flat=True)) == {"clerk"}
    # Each step was taken through the services, on its day: the log, the 一次性告知 and the clock.
    returned = current.filter(state=CaseState.RETURNED)
    assert all(case.deficiencies.exists() for case in returned)
    online_return = returned.get(channel="full_electronic")
    accepted = current.filter(state=CaseState.ACCEPTED)
    assert all(case.due_on == add_working_days(timezone.localdate(case.accepted_at), 3) for case in accepted)
    assert CaseExtension.objects.filter(case__in=accepted, status=CaseExtension.Status.REQUESTED).count() == 1
    # The steps ran in the order of their time across the cases, so each kind of notice is numbered in the
    # order it was issued.
    notices = Notice.objects.filter(case__in=current).order_by("issued_at")
    for kind in set(notices.values_list("kind", flat=True)):
        numbers = list(notices.filter(kind=kind).values_list("number", flat=True))
        assert len(numbers) > 1 and numbers == sorted(numbers), (kind, numbers)
    # Nothing decided: the register is as the demo year left it.
    assert not current.filter(enterprise__established_on__gte=days[-1]).exists()
    clerk = role_users_demo
    summary = due_summary(user=clerk)
    assert summary["overdue"] == 0 and summary["due_today"] + summary["due_soon"] >= 1
    client.force_login(clerk)
    listing = client.get("/registration/cases/", {"state": "received"}).context["listing"]
    assert listing.page.paginator.count == 2
    # The online application returned for correction waits on the follow-up list (网办跟进).
    assert online_return.number in client.get("/registration/follow-ups/").content.decode()


def test_every_case_walked_the_declared_workflow(authority):
    logs = defaultdict(list)
    for case_id, action, from_state, to_state, at in (
        CaseTransitionLog.objects.filter(case__authority=authority)
        .values_list("case_id", "action", "from_state", "to_state", "occurred_at")
        .order_by("occurred_at", "id")
    ):
        logs[case_id].append((action, from_state, to_state, at))
    for case in RegistrationCase.objects.filter(authority=authority):
        state = CaseState.RECEIVED
        previous = case.received_at
        for action, from_state, to_state, at in logs[case.pk]:
            assert from_state == state, (case.number, action)
            assert at >= previous, (case.number, action)
            previous = at
            if action in EXTRA_LOGS:
                assert to_state == from_state
                continue
            transition = CASE_WORKFLOW.transition(action)
            assert state in transition.sources and to_state == transition.target, (case.number, action)
            state = to_state
        assert case.state == state, case.number


def test_dates_follow_the_statutory_clock(authority):
    accepted = RegistrationCase.objects.filter(
        authority=authority, accepted_at__isnull=False
    ).prefetch_related("pauses")
    assert accepted.exists()
    approved = set(
        CaseTransitionLog.objects.filter(case__authority=authority, action="approve").values_list(
            "case_id", flat=True
        )
    )
    for case in accepted[:300]:
        accepted_on = timezone.localdate(case.accepted_at)
        assert case.due_on == add_working_days(accepted_on, 6 if case.extended else 3), case.number
        if case.decided_at:
            decided_on = timezone.localdate(case.decided_at)
            assert case.decided_at >= case.accepted_at
            assert case.on_the_spot == (case.pk in approved and decided_on == accepted_on), case.number
            assert case_working_days(case) == working_days_between(accepted_on, decided_on), case.number
            # The stored decision clock is what the service would have recorded.
            assert case.processing_working_days == case_working_days(case), case.number
            assert case.decided_on_time == (decided_on <= case.due_on), case.number
        else:
            assert case.processing_working_days is None and case.decided_on_time is None
    for case in RegistrationCase.objects.filter(authority=authority, paused_working_days__gt=0)[:50]:
        total = sum(working_days_between(p.started_on, p.ended_on) for p in case.pauses.all() if p.ended_on)
        assert case.paused_working_days == total


def test_extensions_are_decided_by_the_head_and_the_case_follows_the_decision(authority):
    from bizreg.registration.models import CaseExtension, NoticeKind

    # The demo year's (registration.today's one is still waiting for the head).
    extensions = CaseExtension.objects.filter(
        case__authority=authority, case__received_at__year__lte=YEAR
    ).select_related("case")
    assert extensions.exists()
    for extension in extensions:
        case = extension.case
        logs = {
            log.action: log
            for log in CaseTransitionLog.objects.filter(case=case, action__in=EXTRA_LOGS).select_related(
                "actor"
            )
        }
        assert logs["request_extension"].reason == extension.reason in demo.EXTENSION_REASONS
        notices = case.notices.filter(kind=NoticeKind.EXTENSION).count()
        if extension.status == CaseExtension.Status.APPROVED:
            assert case.extended and notices == 1 and "refuse_extension" not in logs, case.number
            decision = logs["approve_extension"]
        else:
            assert extension.status == CaseExtension.Status.REFUSED, case.number
            assert not case.extended and notices == 0 and "approve_extension" not in logs, case.number
            decision = logs["refuse_extension"]
            assert decision.reason in demo.EXTENSION_REFUSALS
        assert decision.actor == extension.decided_by and decision.occurred_at == extension.decided_at
        assert decision.actor.role_codes == ["manager"]
        assert case.decided_at > extension.decided_at, case.number


def test_case_numbers_and_their_counters(authority):
    from bizreg.registration.models import CaseNumberCounter

    numbers = list(RegistrationCase.objects.filter(authority=authority).values_list("number", "received_at"))
    pattern = re.compile(rf"^{authority.code}(\d{{8}})(\d{{5}})$")
    last_by_day: dict[str, int] = {}
    for number, received_at in numbers:
        match = pattern.match(number)
        assert match, number
        assert match.group(1) == f"{timezone.localtime(received_at):%Y%m%d}"
        last_by_day[match.group(1)] = max(last_by_day.get(match.group(1), 0), int(match.group(2)))
    counters = {f"{c.day:%Y%m%d}": c.last for c in CaseNumberCounter.objects.filter(authority=authority)}
    assert counters == last_by_day


def test_notices_are_numbered_per_kind_without_gaps(authority):
    notices = Notice.objects.filter(authority=authority)
    assert notices.count() > 0
    codes = notices.values_list("verification_code", flat=True)
    assert len(set(codes)) == len(codes)
    for row in NoticeCounter.objects.filter(authority=authority):
        numbers = sorted(
            int(re.search(r"第(\d{5})号$", n).group(1))
            for n in notices.filter(kind=row.kind, issued_at__year=row.year).values_list("number", flat=True)
        )
        assert numbers == list(range(1, row.last + 1)), row.kind
    approved = RegistrationCase.objects.filter(authority=authority, transitions__action="approve")
    with_approval = notices.filter(
        kind__in=["approval_establishment", "approval_change", "approval_deregistration", "migration_letter"]
    )
    assert with_approval.values("case").distinct().count() == approved.filter(received_at__year=YEAR).count()


def test_licences_never_reuse_a_serial_and_each_licence_is_one_valid_pair(authority):
    sheets = LicenceSheet.objects.filter(authority=authority)
    serials = list(sheets.values_list("serial", flat=True))
    assert len(serials) == len(set(serials))
    for batch in LicenceBatch.objects.filter(authority=authority):
        assert batch.sheets.count() == batch.serial_end - batch.serial_start + 1
    valid = Counter(sheets.filter(status="printed").values_list("case_id", "kind"))
    licensed = RegistrationCase.objects.filter(
        authority=authority, licensed_at__isnull=False, received_at__year=YEAR
    )
    assert licensed.exists()
    for case_id in licensed.values_list("pk", flat=True):
        assert valid[(case_id, "original")] == 1 and valid[(case_id, "duplicate")] == 1
    for sheet in sheets.filter(status="spoiled"):
        assert sheet.replaced_by.case_id == sheet.case_id and sheet.replaced_by.status == "printed"
    # Printing takes the next blank: within a kind, serial order is printing order.
    for kind in ("original", "duplicate"):
        used = list(
            sheets.filter(kind=kind, used_at__isnull=False)
            .order_by("number")
            .values_list("used_at", flat=True)
        )
        assert used == sorted(used)


def test_mail_and_follow_ups(authority):
    for courier, number in MailPackage.objects.filter(authority=authority).values_list(
        "courier", "tracking_number"
    ):
        assert validate_tracking_number(courier, number) == number
    mail_cases = RegistrationCase.objects.filter(
        authority=authority, channel=Channel.MAIL, received_at__year=YEAR
    )
    assert MailPackage.objects.filter(case__in=mail_cases, direction="inbound").count() == mail_cases.count()
    # Hand-overs are what services.mail.mail_handover records: a package already recorded, handed on by
    # who recorded it to a colleague of the authority, for one of the form's purposes; the old licence
    # sent back for exchange goes to someone who may print, before the new one is printed.
    from bizreg.registration.models import MailHandover
    from bizreg.registration.services.mail import HANDOVER_PURPOSES, PRINT_PERMISSION, PURPOSE_PRINTING

    handovers = MailHandover.objects.filter(package__authority=authority).select_related(
        "package__case", "to_user"
    )
    purposes = Counter(handovers.values_list("package__direction", "purpose"))
    assert set(purposes) == {
        ("inbound", "移交执照打印"),
        ("inbound", "移交档案管理"),
        ("outbound", "移交寄出"),
    }, purposes
    staff = set(authority.staff.values_list("pk", flat=True))
    for handover in handovers:
        package = handover.package
        assert handover.purpose in HANDOVER_PURPOSES
        assert package.recorded_at < handover.occurred_at, package.tracking_number
        assert handover.from_user_id == package.recorded_by_id != handover.to_user_id
        assert handover.to_user_id in staff
        if handover.purpose == PURPOSE_PRINTING:
            assert handover.to_user.has_perm(PRINT_PERMISSION)
            assert handover.occurred_at < package.case.licensed_at, package.tracking_number
        if package.direction == MailPackage.Direction.OUTBOUND:
            assert package.case.licensed_at < package.recorded_at, package.tracking_number
    tasks = FollowUpTask.objects.filter(authority=authority).select_related("case")
    assert tasks.exists()
    for task in tasks:
        assert task.case.channel in (Channel.ONE_STOP_ONLINE, Channel.FULL_ELECTRONIC)
        assert task.trigger_state in (CaseState.RETURNED, CaseState.REJECTED, CaseState.WITHDRAWN)
        if task.status == "done":
            assert task.contacts.exists() and task.outcome


def test_records_and_follow_ups_come_in_the_order_of_the_work(authority):
    from django.db.models import F

    from bizreg.registration.models import ContactLog

    linked = ServiceRecord.objects.filter(authority=authority, case__isnull=False)
    entries, guidance = linked.filter(kind="info_entry"), linked.filter(kind="online_guidance")
    assert entries.exists() and guidance.exists()
    # What was received is entered after it came in; guidance that helped file a case comes before it.
    assert not entries.filter(occurred_at__lt=F("case__received_at")).exists()
    assert not guidance.filter(occurred_at__gt=F("case__received_at")).exists()
    contacts = ContactLog.objects.filter(task__authority=authority)
    assert contacts.exists()
    assert not contacts.filter(occurred_at__lt=F("task__opened_at")).exists()
    assert not contacts.filter(task__status="done", occurred_at__gt=F("task__closed_at")).exists()
    # A record's note fits its kind (no "guided the e-signature" on an entry of paper materials).
    notes = Counter(ServiceRecord.objects.filter(authority=authority).values_list("kind", "note"))
    assert notes[("info_entry", "")] and notes[("online_guidance", "")]
    for kind, note in notes:
        assert note in demo.SERVICE_NOTES[kind], (kind, note)
    # What a contact says fits how it was made (no "SMS sent" on a phone call).
    for method, result in contacts.values_list("method", "result"):
        assert any(result in by_method[method] for by_method in demo.CONTACT_RESULTS.values()), result


def test_figures_of_the_year(authority):
    ids = [authority.pk]
    start, end = dt.date(YEAR, 1, 1), dt.date(YEAR + 1, 1, 1)
    assert metrics.info_entries_and_guidance(ids, start, end) == round(
        demo.SERVICE_RECORDS_AT_SCALE_1 * SCALE
    )
    assert 95 <= metrics.licence_usage_rate(ids, start, end) < 100
    assert 0 < metrics.mean_processing_working_days(ids, start, end) < 1.5
    assert 90 <= metrics.on_time_rate(ids, start, end) <= 100
    # The demo year was faster than the year before (the seed: 压缩行政审批时间).
    assert metrics.processing_time_yoy_change(ids, start, end) < 0


@pytest.mark.parametrize(
    ("kind", "title"),
    [
        ("approval_establishment", "准予设立登记通知书"),
        ("correction", "一次性告知书"),
        ("rejection", "不予登记通知书"),
        ("migration_letter", "迁移调档函"),
        ("acceptance", "受理通知书"),
    ],
)
def test_demo_notices_render_on_first_download(
    authority, role_users_demo, client, kind, title, tmp_path, settings
):
    from pypdf import PdfReader

    settings.MEDIA_ROOT = tmp_path
    # A notice of the demo year (registration.today's were issued through the services, with their PDF).
    notice = (
        Notice.objects.filter(authority=authority, kind=kind, issued_at__year=YEAR)
        .select_related("case")
        .first()
    )
    assert notice is not None and notice.sha256 == "" and not notice.file
    client.force_login(role_users_demo, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(f"/registration/notices/{notice.pk}/pdf/")
    assert response.status_code == 200
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = text.replace("\n", "")
    assert title in text
    assert notice.number in text
    notice.refresh_from_db()
    assert notice.sha256 and notice.file
    again = client.get(f"/registration/notices/{notice.pk}/pdf/")
    assert again.content == response.content


@pytest.fixture
def role_users_demo(authority):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="clerk")


def test_progress_query_finds_a_demo_case(authority, client):
    from django.core.cache import cache

    cache.clear()
    case = RegistrationCase.objects.filter(authority=authority, state=CaseState.ARCHIVED).first()
    response = client.get(
        "/portal/progress/", {"number": case.number, "phone_suffix": case.applicant_phone[-4:]}
    )
    assert response.status_code == 200
    assert "已办结" in response.content.decode()


def test_generation_is_deterministic(authority):
    ctx = DemoContext(authority=authority, year=YEAR, scale=0.005, stdout=io.StringIO())

    def draw():
        year = demo.RegistrationYear(ctx)
        year._users()
        year._register()
        cases = year._generate_cases()
        year._assign_parties(cases)
        return [
            (c.case_type, c.channel, c.received_at, c.state, c.enterprise_name, c.applicant) for c in cases
        ]

    assert draw() == draw()


def test_counts_by_type_are_in_the_db(authority):
    assert RegistrationCase.objects.filter(authority=authority).values("case_type").annotate(
        n=Count("id")
    ).count() == len(CaseType.values)


def test_no_case_acts_on_a_locked_enterprise(authority):
    """No case was received for an enterprise while an identity-misuse lock was on it (the investigations
    demo takes its locks through the services), unless it was the locking case's own."""
    from bizreg.enterprises.models import EnterpriseLock

    locks = list(EnterpriseLock.objects.all())
    assert locks
    for lock in locks:
        during = RegistrationCase.objects.filter(
            enterprise_id=lock.enterprise_id, received_at__gte=lock.locked_at
        )
        if lock.released_at is not None:
            during = during.filter(received_at__lt=lock.released_at)
        assert not during.exclude(investigation_reference=lock.case_reference).exists(), lock.case_reference


def test_every_approved_case_of_the_year_is_in_the_register(authority):
    """An approved 设立/迁入 (of the year or the previous year's sample) names an enterprise of the register
    that entered it that day; an approved 注销/迁出 names one the register shows closed that day, with the
    history row the change leaves."""
    from bizreg.enterprises.models import Enterprise

    closing = {
        CaseType.DEREGISTRATION: "deregistered",
        CaseType.SIMPLE_DEREGISTRATION: "deregistered",
        CaseType.MIGRATION_OUT: "moved_out",
    }
    approved = RegistrationCase.objects.filter(
        authority=authority,
        case_type__in=[CaseType.ESTABLISHMENT, CaseType.MIGRATION_IN, *closing],
        transitions__action="approve",
    )
    assert approved.count() > 100
    history = Enterprise.history.model.objects
    seen = Counter()
    for case in approved:
        assert case.enterprise_id is not None, case.number
        enterprise = Enterprise.objects.get(pk=case.enterprise_id)
        decided_on = timezone.localtime(case.decided_at).date()
        assert enterprise.uscc == case.uscc, case.number
        assert _name_on(enterprise, decided_on) == case.enterprise_name, case.number
        if case.case_type == CaseType.ESTABLISHMENT:
            assert enterprise.established_on == decided_on, case.number
        elif case.case_type == CaseType.MIGRATION_IN:
            entered = history.filter(id=enterprise.pk, history_type="+").get()
            assert timezone.localtime(entered.history_date).date() == decided_on, case.number
            assert entered.history_change_reason == "迁入登记"
            assert enterprise.established_on < decided_on
        else:
            assert (enterprise.status, enterprise.status_changed_on) == (closing[case.case_type], decided_on)
            assert history.filter(
                id=enterprise.pk, history_type="~", status=enterprise.status, status_changed_on=decided_on
            ).exists(), case.number
        seen[case.case_type] += 1
    assert seen[CaseType.MIGRATION_IN] and seen[CaseType.MIGRATION_OUT] and seen[CaseType.DEREGISTRATION]
    assert approved.filter(received_at__year=YEAR - 1).exists()


def test_revoked_enterprises_wind_up_by_liquidation_filing_and_deregistration(authority):
    """An enterprise whose licence was revoked (吊销) still files its liquidation group (清算组备案) and
    applies for 注销（普通）: the year has both, an approved 注销 takes the register from 吊销 to 注销 with
    its history row, and no other kind of case is received for an enterprise after its revocation."""
    from bizreg.enterprises.models import Enterprise, EnterpriseStatus
    from bizreg.registration.services.cases import REVOKED_MAY_FILE

    history = Enterprise.history.model.objects.filter(authority=authority)
    revoked_on = dict(
        history.filter(status=EnterpriseStatus.REVOKED)
        .values("id")
        .annotate(first=Min("status_changed_on"))
        .values_list("id", "first")
    )
    assert revoked_on
    after_revocation = [
        case
        for case in RegistrationCase.objects.filter(authority=authority, enterprise_id__in=revoked_on)
        if timezone.localtime(case.received_at).date() > revoked_on[case.enterprise_id]
    ]
    kinds = Counter(case.case_type for case in after_revocation)
    assert kinds[CaseType.DEREGISTRATION] and kinds[CaseType.FILING], kinds
    assert set(kinds) <= REVOKED_MAY_FILE, kinds
    for case in after_revocation:
        if case.case_type == CaseType.FILING:
            assert case.requested_changes == {"filing_items": demo.LIQUIDATION_FILING}, case.number
    wound_up = [
        case
        for case in after_revocation
        if case.case_type == CaseType.DEREGISTRATION and case.transitions.filter(action="approve").exists()
    ]
    assert wound_up
    for case in wound_up:
        decided_on = timezone.localtime(case.decided_at).date()
        enterprise = Enterprise.objects.get(pk=case.enterprise_id)
        assert (enterprise.status, enterprise.status_changed_on) == (
            EnterpriseStatus.DEREGISTERED,
            decided_on,
        )
        statuses = list(
            history.filter(id=enterprise.pk).order_by("history_date").values_list("status", flat=True)
        )
        assert statuses[-2:] == [EnterpriseStatus.REVOKED, EnterpriseStatus.DEREGISTERED], case.number


def test_every_register_establishment_of_the_year_is_the_approval_of_its_case(authority):
    """The converse for 设立: an enterprise the register shows established in the demo year was approved
    that day by a 设立 case naming it — also where the generated register drew more establishments on a day
    than the year's cases approved — and the case asked for what the register entered (its '+' history
    row). The identity-misuse ring's were filed online by its agent on the victims' identities."""
    from bizreg.enterprises.demo import identity_misuse_ring
    from bizreg.enterprises.models import Enterprise

    established = Enterprise.objects.filter(authority=authority, established_on__year=YEAR)
    cases = {
        case.enterprise_id: case
        for case in RegistrationCase.objects.filter(
            authority=authority, case_type=CaseType.ESTABLISHMENT, transitions__action="approve"
        ).exclude(enterprise=None)
    }
    entered = {
        row.id: row
        for row in Enterprise.history.model.objects.filter(
            authority=authority, history_type="+", established_on__year=YEAR
        )
    }
    assert established.count() > 100
    without_case, asked_otherwise = [], []
    for enterprise in established:
        case = cases.get(enterprise.pk)
        if case is None or timezone.localtime(case.decided_at).date() != enterprise.established_on:
            without_case.append((enterprise.name, enterprise.established_on))
            continue
        row = entered[enterprise.pk]
        facts = {
            "entity_type": row.entity_type,
            "legal_rep_name": row.legal_rep_name,
            "legal_rep_id_number": row.legal_rep_id_number,
            "business_scope": row.business_scope,
            "industry": row.industry,
            "address": row.address,
            "street": row.street_id,
        }
        if row.registered_capital is not None:
            facts["registered_capital"] = str(row.registered_capital)
        if case.requested_changes != facts:
            asked_otherwise.append(case.number)
    assert without_case == []
    assert asked_otherwise == []

    ring = identity_misuse_ring(YEAR)
    ring_cases = RegistrationCase.objects.filter(
        authority=authority, case_type=CaseType.ESTABLISHMENT, uscc__in=ring.usccs
    )
    assert ring_cases.count() == len(ring.enterprises)
    for case in ring_cases:
        assert case.channel == Channel.FULL_ELECTRONIC, case.number
        assert (case.agent_name, case.agent_id_number, case.agent_phone) == (
            ring.agent_name,
            ring.agent_id_number,
            ring.agent_phone,
        )
        assert case.applicant_phone == ring.agent_phone
        assert case.applicant_id_number in ring.victim_id_numbers


def test_every_register_change_of_the_year_has_its_case(authority):
    """The converse: every change the register shows in the demo year — a 变更, a 注销, a 迁出, a rename —
    is the approval of a registration case of that enterprise at that moment. Only 吊销 (an enforcement
    decision) and 撤销登记 (an investigation's rescission) come from outside registration."""
    from bizreg.enterprises.models import Enterprise

    closing_types = {
        "deregistered": {CaseType.DEREGISTRATION, CaseType.SIMPLE_DEREGISTRATION},
        "moved_out": {CaseType.MIGRATION_OUT},
    }
    approvals = {
        (case.enterprise_id, case.decided_at): case
        for case in RegistrationCase.objects.filter(
            authority=authority, transitions__action="approve", decided_at__year__gte=YEAR - 1
        ).exclude(enterprise=None)
    }
    approved_on = defaultdict(set)
    for (enterprise_id, decided_at), case in approvals.items():
        approved_on[(enterprise_id, timezone.localtime(decided_at).date())].add(case.case_type)
    rows = Enterprise.history.model.objects.filter(
        authority=authority, history_type="~", history_date__year__gte=YEAR - 1
    ).order_by("history_date")
    unexplained = Counter()
    seen = Counter()
    for row in rows:
        day = timezone.localtime(row.history_date).date()
        if day.year != YEAR:
            continue
        reason = row.history_change_reason
        if reason.startswith("变更登记（业务 "):
            case = approvals.get((row.id, row.history_date))
            explained = case is not None and reason == f"变更登记（业务 {case.number}）"
            seen["变更"] += explained
        elif row.status in closing_types and row.status_changed_on == day:
            explained = bool(approved_on[(row.id, day)] & closing_types[row.status])
            seen[row.status] += explained
        else:
            explained = reason == "吊销营业执照" or reason.startswith("撤销登记（")
        if not explained:
            unexplained[reason] += 1
    assert unexplained == Counter()
    assert seen["变更"] > 100 and seen["deregistered"] > 10 and seen["moved_out"] > 0


def _name_on(enterprise, day: dt.date) -> str:
    """The name an entry held at the end of `day`: the first name it gave up after that day (a former name
    is used until the end of its last day), else its present one."""
    given_up = enterprise.former_names.filter(used_until__gt=day).order_by("used_until").first()
    return given_up.name if given_up is not None else enterprise.name


def test_every_approved_change_of_the_year_is_in_the_register(authority):
    """An approved 变更 of the year (or of the previous year's sample) changed its enterprise as
    services.cases would have on the decision: a '~' history row at the approval, by the approver, with the
    case's reason, carries the requested values (the derived columns recomputed); the entry keeps the last
    value of each field; a new name is kept as a former name; a new legal representative's person-role
    starts that day as the old one's ends."""
    from decimal import Decimal

    from bizreg.enterprises.demo import ftz_rule_views
    from bizreg.enterprises.models import Enterprise, EnterprisePerson, PersonRole
    from bizreg.enterprises.rules import address_key, name_initials
    from bizreg.enterprises.services import ftz_state

    approvals = {
        log.case_id: log
        for log in CaseTransitionLog.objects.filter(
            case__authority=authority, case__case_type=CaseType.CHANGE, action="approve"
        )
    }
    changes = list(
        RegistrationCase.objects.filter(pk__in=list(approvals), received_at__year__in=(YEAR - 1, YEAR))
        .exclude(enterprise=None)
        .order_by("decided_at")
    )
    assert len(changes) > 100
    assert any(c.received_at.year == YEAR - 1 for c in changes)
    history = Enterprise.history.model.objects
    rules = ftz_rule_views(authority=authority)
    last: dict[tuple[int, str], tuple[object, dt.datetime]] = {}
    kinds = Counter()
    for case in changes:
        row = history.get(id=case.enterprise_id, history_date=case.decided_at)
        assert row.history_type == "~"
        assert row.history_change_reason == f"变更登记（业务 {case.number}）"
        assert row.history_user_id == approvals[case.pk].actor_id
        for key, value in case.requested_changes.items():
            field = "street_id" if key == "street" else key
            wanted = Decimal(value) if key == "registered_capital" else value
            assert getattr(row, field) == wanted, (case.number, key)
            last[(case.enterprise_id, field)] = (wanted, case.decided_at)
            kinds[key] += 1
        assert row.name_initials == name_initials(row.name)
        assert row.address_key == address_key(row.address)
        assert (row.in_ftz, row.ftz_area, row.ftz_rule_id) == ftz_state(
            row.address, row.street_id, row.ftz_override, rules
        )
        decided_on = timezone.localtime(case.decided_at).date()
        enterprise = Enterprise.objects.get(pk=case.enterprise_id)
        if "name" in case.requested_changes:
            assert case.enterprise_name == case.requested_changes["name"]
            assert _name_on(enterprise, decided_on) == case.enterprise_name, case.number
        if "legal_rep_id_number" in case.requested_changes:
            reps = EnterprisePerson.objects.filter(enterprise=enterprise, role=PersonRole.LEGAL_REP)
            started = reps.get(id_number=case.requested_changes["legal_rep_id_number"], started_on=decided_on)
            assert started.name == case.requested_changes["legal_rep_name"]
            assert reps.filter(ended_on=decided_on, end_reason="变更法定代表人").exists(), case.number
    assert set(kinds) >= {"name", "address", "street", "legal_rep_name", "business_scope", "industry"}
    # The entry and every later history row (its status change, say) carry the last change of each field
    # (a name may still change again by the register's own renames).
    for (pk, field), (value, at) in last.items():
        if field == "name":
            continue
        assert getattr(Enterprise.objects.get(pk=pk), field) == value, (pk, field)
        later = history.filter(id=pk, history_date__gte=at).values_list(field, flat=True)
        assert set(later) == {value}, (pk, field)


def test_every_case_of_both_years_says_what_it_asks_for(authority):
    """A 变更 names the values it changes, a 备案 its items, a 迁出 where it goes — the previous year's
    archived sample as well as the demo year (its case pages showed an empty request before)."""
    for year in (YEAR - 1, YEAR):
        cases = RegistrationCase.objects.filter(
            authority=authority,
            received_at__year=year,
            case_type__in=(CaseType.CHANGE, CaseType.FILING, CaseType.MIGRATION_OUT),
        ).exclude(enterprise=None)
        by_type = Counter(cases.values_list("case_type", flat=True))
        assert by_type[CaseType.CHANGE] and by_type[CaseType.FILING] and by_type[CaseType.MIGRATION_OUT], year
        for case in cases:
            asked = set(case.requested_changes)
            if case.case_type == CaseType.CHANGE:
                assert asked and asked <= set(CHANGE_FIELDS), (case.number, asked)
            elif case.case_type == CaseType.FILING:
                assert asked == {"filing_items"} and case.requested_changes["filing_items"], case.number
            else:
                assert asked == {"destination_authority", "destination_address"}, case.number
