"""Demo year of the archives module, built from the registration demo year.

Seeder `archives.year` (after `registration.year`): every case the registration year completed (licensed,
archived, approved without a licence, refused, withdrawn) becomes items of its enterprise's archive — one
item per material received plus the decision notice — listed on the month's transfer lists (as many as
services.transfers' MAX_CASES a list asks for), handed to the digitization contractor and counted back;
the files of January–October stand on the shelves of two storerooms, the last two months' wait for
shelving. The contractor's batches, one per list (DONE, with their QA sample figures), turned
January–October's items into e-archive items: those carry their text (what the OCR read; the searchable
PDF is rendered from it the first time the item is downloaded) and their digitized_at. The year's archive
queries (departments' remote look-ups, portal look-ups, enterprises' and lawyers' full-file requests) are
all served within their three working days — the seed reports 100 %; a hundred-odd paper loans to
departments, three still out at year end (one of them overdue), returned in January (core.demo:
work open at the year's end is carried on until DemoContext.settled_until).

Rows equal what the services write (archival codes from services.records, items' document types from
records.doc_type_for_material, transfer/batch numbers in their services' formats); they are written raw
(COPY on PostgreSQL, executemany on SQLite) with their ArchiveEvent trail where a page shows one. No
simple_history rows are written for demo rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Q

from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveAccessLog,
    ArchiveFile,
    ArchiveItem,
    ArchiveStatus,
    BatchState,
    BorrowKind,
    BorrowRequest,
    BorrowState,
    DigitizationBatch,
    DigitizationStatus,
    DocType,
    ItemSource,
    OpenStatus,
    QueryChannel,
    RequesterKind,
    Retention,
    ShelfLocation,
    TransferEntry,
    TransferList,
    TransferState,
)
from bizreg.archives.services.records import (
    CATEGORY_CODE,
    archive_code,
    doc_type_for_material,
    fonds_code_for,
    item_code,
    organization_code_for,
)
from bizreg.archives.services.transfers import MAX_CASES
from bizreg.core.demo import DemoContext, register_seeder
from bizreg.core.demo_loader import RawLoader
from bizreg.core.identifiers import build_resident_id
from bizreg.core.workdays import add_working_days

TZ = ZoneInfo("Asia/Shanghai")
DIGITIZED_UNTIL_MONTH = 10  # the contractor's batches of Nov–Dec are still at work at year end


def transfer_parts(
    cases_by_month: dict[int, list[dict]], limit: int
) -> list[tuple[int, int, int, list[dict]]]:
    """(month, part, parts, cases) of each transfer list: a month's cases in their order, cut into the
    fewest parts of at most `limit` whose sizes differ by one at most."""
    parts = []
    for month in sorted(cases_by_month):
        cases = cases_by_month[month]
        count = max(1, math.ceil(len(cases) / limit))
        size, extra = divmod(len(cases), count)
        start = 0
        for part in range(1, count + 1):
            end = start + size + (1 if part <= extra else 0)
            parts.append((month, part, count, cases[start:end]))
            start = end
    return parts


SHELVED_UNTIL_MONTH = 10
REPOSITORIES = ("南沙档案馆一号库房", "南沙档案馆二号库房")
ZONES = ("A", "B", "C", "D")
CONTRACTOR = "广州穗档数字科技服务有限公司"
DEMO_SCANS_JOB_KIND = "archives.demo_scans"
SEARCH_REBUILD_JOB_KIND = "archives.search_rebuild"
DEMO_SCAN_PAGES = 240
_SCAN_QUALITIES = ("scanned",) * 12 + ("clean",) * 5 + ("poor",) * 3
_FINAL_STATES = ("licensed", "archived", "approved", "rejected", "withdrawn")
_NOTICE_DOC_TYPE = {
    "approval_establishment": DocType.NOTICE_APPROVAL,
    "approval_change": DocType.NOTICE_CHANGE,
    "approval_deregistration": DocType.NOTICE_APPROVAL,
    "rejection": DocType.NOTICE_OTHER,
    "migration_letter": DocType.MIGRATION,
}
_OPEN_TYPES = {DocType.NOTICE_APPROVAL, DocType.NOTICE_CHANGE, DocType.LICENCE_COPY}


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _item_text(*, title: str, name: str, uscc: str, doc_number: str, day: dt.date, doc_type: str) -> str:
    """What the OCR read off the item's first page (the demo's stand-in for the scanned text)."""
    lines = [title, f"企业名称：{name}"]
    if uscc:
        lines.append(f"统一社会信用代码：{uscc}")
    if doc_number:
        lines.append(f"文号：{doc_number}")
    body = {
        DocType.APPLICATION: "申请人承诺所提交的申请材料真实、合法、有效，复印件与原件一致。",
        DocType.ARTICLES: "第一章 总则 为规范公司的组织和行为，根据《中华人民共和国公司法》制定本章程。",
        DocType.RESOLUTION: "经全体股东一致同意，作出如下决议，全体股东签字确认。",
        DocType.IDENTITY: "身份证明复印件已经核对原件，与原件一致。",
        DocType.APPOINTMENT: "兹任命下列人员担任公司法定代表人、执行董事、监事及经理职务。",
        DocType.PREMISES: "住所使用证明：产权人同意将上述房屋提供给该企业作为住所使用。",
        DocType.NOTICE_APPROVAL: "经审查，提交的登记申请材料齐全，符合法定形式，我局决定准予登记。",
        DocType.NOTICE_CHANGE: "经审查，提交的变更登记申请材料齐全，符合法定形式，我局决定准予变更登记。",
        DocType.DEREGISTRATION: "清算组已依法通知债权人并公告，清算工作已经完成。",
        DocType.MIGRATION: "该企业申请迁移登记，现将其登记档案移交迁入地登记机关。",
    }.get(doc_type, "本件材料经核对与原件一致。")
    lines.append(body)
    lines.append(f"{day.year}年{day.month}月{day.day}日")
    return "\n".join(lines)


class ArchivesYear:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.authority = ctx.authority
        self.year = ctx.year
        self.rng = ctx.rng("archives.year")
        self.loader = RawLoader()
        users = get_user_model().objects
        self.archivist = users.filter(username="archivist").first()
        self.manager = users.filter(username="manager").first()
        self.digitizer = users.filter(username="digitizer").first()
        self.department = users.filter(username="dept").first()
        self.fonds = fonds_code_for(self.authority)
        self.organization = organization_code_for(self.authority)
        self.events: list[dict] = []
        self._workdays: dict[tuple[dt.date, int], dt.date] = {}

    # --- reading the registration year ---------------------------------------------------------------

    def _cases(self) -> list[dict]:
        from bizreg.registration.models import RegistrationCase

        start, end = _at(dt.date(self.year, 1, 1), 0), _at(dt.date(self.year + 1, 1, 1), 0)
        return list(
            RegistrationCase.objects.filter(
                authority=self.authority, state__in=_FINAL_STATES, received_at__gte=start, received_at__lt=end
            )
            .filter(Q(decided_at__isnull=False) | Q(state="withdrawn"))
            .order_by("received_at", "pk")
            .values(
                "pk",
                "number",
                "case_type",
                "channel",
                "state",
                "enterprise_id",
                "enterprise_name",
                "uscc",
                "received_at",
                "decided_at",
                "updated_at",
            )
        )

    def _materials(self) -> dict[int, list[tuple[str, str]]]:
        from bizreg.registration.models import CaseMaterial

        found: dict[int, list[tuple[str, str]]] = defaultdict(list)
        rows = (
            CaseMaterial.objects.filter(case__authority=self.authority, received=True)
            .order_by("case_id", "requirement__order", "requirement_id")
            .values_list("case_id", "requirement__code", "requirement__name")
        )
        for case_id, code, name in rows.iterator(chunk_size=20_000):
            found[case_id].append((code, name))
        return found

    def _notices(self) -> dict[int, tuple[str, str, dt.datetime]]:
        from bizreg.registration.models import Notice

        found = {}
        rows = Notice.objects.filter(authority=self.authority, kind__in=list(_NOTICE_DOC_TYPE)).values_list(
            "case_id", "kind", "number", "issued_at"
        )
        for case_id, kind, number, issued_at in rows.iterator(chunk_size=20_000):
            found[case_id] = (kind, number, issued_at)
        return found

    def _enterprises(self, ids: set[int]) -> dict[int, tuple[str, str, dt.date]]:
        from bizreg.enterprises.models import Enterprise

        found = {}
        for chunk_start in range(0, len(ids), 5000):
            chunk = sorted(ids)[chunk_start : chunk_start + 5000]
            for pk, name, uscc, established in Enterprise.objects.filter(pk__in=chunk).values_list(
                "pk", "name", "uscc", "established_on"
            ):
                found[pk] = (name, uscc, established)
        return found

    # --- writing ---------------------------------------------------------------------------------------

    def run(self) -> int:
        if self.archivist is None:
            self.ctx.log("  没有档案人员演示用户，跳过档案演示数据")
            return 0
        cases = self._cases()
        materials = self._materials()
        notices = self._notices()
        enterprises = self._enterprises({c["enterprise_id"] for c in cases if c["enterprise_id"]})
        self.ctx.log(f"  完成的登记业务 {len(cases):,} 件")
        locations = self._write_locations()
        archives, items_by_case = self._write_archives(cases, materials, notices, enterprises, locations)
        self.ctx.log(f"写入企业档案与档案件：累计 {self.loader.rows:,} 行")
        self._write_transfers(cases, items_by_case, materials)
        self._write_batches(items_by_case)
        self._submit_demo_scans()
        self._write_access(archives)
        self._write_borrows(archives)
        self._write_events()
        self.ctx.log(f"写入移交清单、数字化批次、查询与借阅：累计 {self.loader.rows:,} 行")
        return self.loader.rows

    def _write_locations(self) -> list[int]:
        rows = []
        for repository in REPOSITORIES:
            for zone in ZONES:
                for column in range(1, 11):
                    for section in range(1, 6):
                        for layer in range(1, 6):
                            rows.append(
                                {
                                    "authority_id": self.authority.pk,
                                    "repository": repository,
                                    "zone": zone,
                                    "column": column,
                                    "section": section,
                                    "layer": layer,
                                    "capacity": 60,
                                    "is_active": True,
                                    "created_at": _at(dt.date(self.year, 1, 2), 9),
                                    "updated_at": _at(dt.date(self.year, 1, 2), 9),
                                }
                            )
        ids = self.loader.ids(ShelfLocation, len(rows))
        for pk, row in zip(ids, rows, strict=True):
            row["id"] = pk
        self.loader.insert(ShelfLocation, rows)
        return ids

    def _write_archives(self, cases, materials, notices, enterprises, locations):
        by_key: dict[object, dict] = {}
        serial_by_year: dict[int, int] = defaultdict(int)
        for year in ArchiveFile.objects.filter(authority=self.authority).values_list("year", flat=True):
            serial_by_year[year] += 1
        archive_rows: list[dict] = []
        for case in cases:
            key = case["enterprise_id"] or f"case:{case['pk']}"
            if key in by_key:
                continue
            if case["enterprise_id"] in enterprises:
                name, uscc, established = enterprises[case["enterprise_id"]]
            else:
                name, uscc, established = (
                    case["enterprise_name"],
                    case["uscc"] or "",
                    case["received_at"].date(),
                )
            year = established.year
            serial_by_year[year] += 1
            row = {
                "authority_id": self.authority.pk,
                "archival_code": archive_code(
                    fonds=self.fonds,
                    year=year,
                    retention=Retention.PERMANENT,
                    organization=self.organization,
                    serial=serial_by_year[year],
                ),
                "fonds_code": self.fonds,
                "category_code": CATEGORY_CODE,
                "year": year,
                "retention": Retention.PERMANENT,
                "organization_code": self.organization,
                "enterprise_id": case["enterprise_id"],
                "enterprise_name": name[:200],
                "uscc": uscc,
                "status": ArchiveStatus.PENDING,
                "moved_in_from": "",
                "moved_out_to": "",
                "note": "",
                "location_id": None,
                "shelved_at": None,
                "first_month": case["received_at"].astimezone(TZ).month,
                "created_at": case["decided_at"] or case["updated_at"],
                "updated_at": case["decided_at"] or case["updated_at"],
            }
            by_key[key] = row
            archive_rows.append(row)
        ids = self.loader.ids(ArchiveFile, len(archive_rows))
        slot = 0
        for pk, row in zip(ids, archive_rows, strict=True):
            row["id"] = pk
            month = row.pop("first_month")
            if month <= SHELVED_UNTIL_MONTH and slot // 60 < len(locations):
                row["status"] = ArchiveStatus.SHELVED
                row["location_id"] = locations[slot // 60]
                row["shelved_at"] = _at(dt.date(self.year, month, 1) + dt.timedelta(days=45), 10)
                slot += 1
        self.loader.insert(ArchiveFile, archive_rows)

        item_rows: list[dict] = []
        items_by_case: dict[int, list[dict]] = {}
        next_number: dict[int, int] = defaultdict(int)
        for case in cases:
            archive = by_key[case["enterprise_id"] or f"case:{case['pk']}"]
            decided = (case["decided_at"] or case["updated_at"]).astimezone(TZ)
            month = case["received_at"].astimezone(TZ).month
            digitized = month <= DIGITIZED_UNTIL_MONTH
            born_digital = case["channel"] in ("one_stop", "full_electronic")
            entries = [
                (doc_type_for_material(code), name, "", decided.date())
                for code, name in materials[case["pk"]]
            ]
            if case["pk"] in notices:
                kind, number, issued = notices[case["pk"]]
                from bizreg.registration.models import NoticeKind

                entries.append(
                    (_NOTICE_DOC_TYPE[kind], NoticeKind(kind).label, number, issued.astimezone(TZ).date())
                )
            rows = []
            for doc_type, title, doc_number, day in entries:
                next_number[archive["id"]] += 1
                number = next_number[archive["id"]]
                pages = self.rng.randint(1, 8) if doc_type == DocType.ARTICLES else self.rng.randint(1, 3)
                row = {
                    "archive_id": archive["id"],
                    "case_id": case["pk"],
                    "case_number": case["number"],
                    "item_number": number,
                    "archival_code": item_code(archive["archival_code"], number),
                    "doc_type": doc_type,
                    "title": title[:300],
                    "responsible_party": "广州市南沙区市场监督管理局"
                    if doc_type in _NOTICE_DOC_TYPE.values()
                    else archive["enterprise_name"],
                    "doc_date": day,
                    "doc_number": doc_number,
                    "pages": pages,
                    "open_status": OpenStatus.OPEN if doc_type in _OPEN_TYPES else OpenStatus.CONTROLLED,
                    "source": ItemSource.BORN_DIGITAL if born_digital else ItemSource.PAPER,
                    "digitization": DigitizationStatus.DIGITIZED
                    if digitized
                    else DigitizationStatus.NOT_DIGITIZED,
                    "digitized_at": _at(dt.date(self.year, month, 1) + dt.timedelta(days=40), 17)
                    if digitized
                    else None,
                    "text": _item_text(
                        title=title,
                        name=archive["enterprise_name"],
                        uscc=archive["uscc"],
                        doc_number=doc_number,
                        day=day,
                        doc_type=doc_type,
                    )
                    if digitized
                    else "",
                    "flags": [],
                    "keywords": "",
                    "e_file": "",
                    "e_file_sha256": "",
                    "created_at": decided,
                    "updated_at": decided,
                }
                rows.append(row)
            items_by_case[case["pk"]] = rows
            item_rows.extend(rows)
        self.loader.insert(ArchiveItem, item_rows)
        return archive_rows, items_by_case

    def _write_transfers(self, cases, items_by_case, materials) -> None:
        """The year's transfer lists: each month's paper cases, oldest first, on as few lists as
        services.transfers allows (MAX_CASES a list), in parts of about equal size."""
        by_month: dict[int, list[dict]] = defaultdict(list)
        for case in sorted(cases, key=lambda c: (c["received_at"], c["pk"])):
            if case["channel"] in ("one_stop", "full_electronic"):
                continue  # born digital: nothing to scan
            by_month[case["received_at"].astimezone(TZ).month].append(case)
        self.transfer_parts = transfer_parts(by_month, MAX_CASES)
        lists, entries = [], []
        ids = self.loader.ids(TransferList, len(self.transfer_parts))
        self.transfer_ids = {}
        for pk, (serial, (month, part, of, month_cases)) in zip(
            ids, enumerate(self.transfer_parts, start=1), strict=True
        ):
            first = dt.date(self.year, month, 1)
            made = first + dt.timedelta(days=35 + part - 1)
            done = month <= DIGITIZED_UNTIL_MONTH
            state = (
                TransferState.RECEIVED
                if done
                else (TransferState.SENT if month == 11 else TransferState.DRAFT)
            )
            number = f"YJ-{self.year}-{serial:04d}"
            self.transfer_ids[(month, part)] = pk
            lists.append(
                {
                    "id": pk,
                    "authority_id": self.authority.pk,
                    "number": number,
                    "state": state,
                    "title": f"{self.year}年{month}月办结业务档案移交扫描" + (f"（{part}/{of}）" * (of > 1)),
                    "period_start": first,
                    "period_end": (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1),
                    "created_by_id": self.archivist.pk,
                    "signed_by_id": self.manager.pk
                    if state != TransferState.DRAFT and self.manager
                    else None,
                    "signed_at": _at(made, 10) if state != TransferState.DRAFT else None,
                    "sent_at": _at(made + dt.timedelta(days=1), 15) if state != TransferState.DRAFT else None,
                    "received_at": _at(made + dt.timedelta(days=20), 16) if done else None,
                    "received_by_id": self.archivist.pk if done else None,
                    "contractor": CONTRACTOR,
                    "created_at": _at(made, 9),
                    "updated_at": _at(made, 9),
                }
            )
            for case in month_cases:
                items = items_by_case.get(case["pk"], [])
                present = len(items)
                entries.append(
                    {
                        "transfer_id": pk,
                        "case_id": case["pk"],
                        "archive_id": items[0]["archive_id"] if items else None,
                        "expected_items": max(present, len(materials[case["pk"]])),
                        "present_items": present,
                        "pages": sum(i["pages"] for i in items),
                        "missing": [],
                        "returned_items": present if done else None,
                        "return_note": "",
                    }
                )
            for action, to_state, when in (
                ("sign", TransferState.SIGNED, lists[-1]["signed_at"]),
                ("send", TransferState.SENT, lists[-1]["sent_at"]),
                ("receive", TransferState.RECEIVED, lists[-1]["received_at"]),
            ):
                if when is not None:
                    self._event(TransferList, pk, action, to_state, when, self.archivist)
        self.loader.insert(TransferList, lists)
        self.loader.insert(TransferEntry, [e for e in entries if e["archive_id"] is not None])

    def _write_batches(self, items_by_case) -> None:
        """The contractor's finished batches: one per transfer list of January–October."""
        rows = []
        for month, part, _of, month_cases in self.transfer_parts:
            if month > DIGITIZED_UNTIL_MONTH:
                continue
            pages = sum(i["pages"] for case in month_cases for i in items_by_case.get(case["pk"], []))
            if not pages:
                continue
            sampled = max(1, math.ceil(pages * 0.05))
            passed = sampled - self.rng.randint(0, max(0, sampled // 100))
            finished = _at(dt.date(self.year, month, 1) + dt.timedelta(days=40 + part - 1), 17)
            rows.append(
                {
                    "authority_id": self.authority.pk,
                    "number": f"SM-{self.year}-{len(rows) + 1:04d}",
                    "transfer_id": self.transfer_ids[(month, part)],
                    "state": BatchState.DONE,
                    "created_by_id": (self.digitizer or self.archivist).pk,
                    "pages_total": pages,
                    "pages_rejected": sampled - passed,
                    "qa_sampled": sampled,
                    "qa_passed": passed,
                    "finished_at": finished,
                    "created_at": finished - dt.timedelta(days=18),
                    "updated_at": finished,
                }
            )
        self.loader.insert(DigitizationBatch, rows)
        self.batches_written = len(rows)

    def _submit_demo_scans(self) -> None:
        """November's papers are at the contractor: an open batch whose scans (rendered registration
        documents with skew, noise and blur) the worker generates after start-up, so the pipeline can be
        tried at once without making the first start wait for them; and the full-text index of the year's
        e-archive items, built by the worker the same way."""
        from bizreg.core import services as core_services

        operator = self.digitizer or self.archivist
        batch = DigitizationBatch.objects.create(
            authority=self.authority,
            number=f"SM-{self.year}-{self.batches_written + 1:04d}",
            transfer=TransferList.objects.filter(
                pk=self.transfer_ids.get((DIGITIZED_UNTIL_MONTH + 1, 1))
            ).first(),
            state=BatchState.INTAKE,
            created_by=operator,
        )
        opened = _at(dt.date(self.year, DIGITIZED_UNTIL_MONTH + 2, 5), 9)
        DigitizationBatch.objects.filter(pk=batch.pk).update(created_at=opened, updated_at=opened)
        self._event(DigitizationBatch, batch.pk, "create", BatchState.INTAKE, opened, operator)
        # The year's e-archive text is indexed in the worker too (about a millisecond an item).
        core_services.job_submit(authority=self.authority, kind=SEARCH_REBUILD_JOB_KIND, actor=self.archivist)
        core_services.job_submit(
            authority=self.authority,
            kind=DEMO_SCANS_JOB_KIND,
            actor=operator,
            parameters={"batch_id": batch.pk, "pages": DEMO_SCAN_PAGES, "year": self.year},
        )

    def _write_access(self, archives: list[dict]) -> None:
        """The year's archive queries: departments' remote look-ups most, portal look-ups, and full-file
        requests of enterprises, lawyers, state organs and bankruptcy administrators."""
        rng = self.rng
        with_uscc = [a for a in archives if a["uscc"]]
        if not with_uscc:
            return
        day, end = dt.date(self.year, 1, 2), dt.date(self.year, 12, 31)
        rows, logs = [], []
        serial_by_day: dict[dt.date, int] = defaultdict(int)
        due_by_day: dict[dt.date, dt.datetime] = {}
        kinds = (
            [(QueryChannel.DEPARTMENT, RequesterKind.DEPARTMENT, False)] * 60
            + [(QueryChannel.PORTAL, RequesterKind.PUBLIC, False)] * 25
            + [(QueryChannel.PORTAL, RequesterKind.ENTERPRISE, True)] * 8
            + [(QueryChannel.WINDOW, RequesterKind.LAWYER, True)] * 4
            + [(QueryChannel.WINDOW, RequesterKind.STATE_ORGAN, True)] * 2
            + [(QueryChannel.WINDOW, RequesterKind.BANKRUPTCY_ADMIN, True)]
        )
        surnames, given = "陈李黄张梁何林吴刘郑罗谢冯邓", "嘉伟敏婷志华丽明俊欣颖浩杰雯"
        while day <= end:
            if day.weekday() < 5:
                for _n in range(round(rng.randint(10, 22) * self.ctx.scale) or 1):
                    channel, kind, full = rng.choice(kinds)
                    archive = rng.choice(with_uscc)
                    submitted = _at(day, rng.randint(9, 16), rng.randint(0, 59))
                    if day not in due_by_day:
                        due_by_day[day] = _at(add_working_days(day, 3), 17, 30)
                    due = due_by_day[day]
                    serial_by_day[day] += 1
                    served = (
                        submitted + dt.timedelta(minutes=rng.randint(2, 50))
                        if not full
                        else _at(self._workday(day, rng.choice((0, 1, 1, 2))), rng.randint(9, 17))
                    )
                    if served is not None and served < submitted:
                        served = submitted + dt.timedelta(hours=1)
                    name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
                    person = kind != RequesterKind.DEPARTMENT
                    row = {
                        "authority_id": self.authority.pk,
                        "reference": f"DA{day:%Y%m%d}-{serial_by_day[day]:04d}",
                        "channel": channel,
                        "requester_kind": kind,
                        "state": AccessState.SUBMITTED if served is None else AccessState.SERVED,
                        "archive_id": archive["id"],
                        "uscc": archive["uscc"],
                        "enterprise_name": archive["enterprise_name"],
                        "applicant_name": name
                        if person
                        else (self.department.get_full_name() or "业务部门")
                        if self.department
                        else "业务部门",
                        "applicant_id_number": build_resident_id(
                            "440115",
                            dt.date(rng.randint(1965, 2000), rng.randint(1, 12), rng.randint(1, 28)),
                            rng.randint(1, 999),
                        )
                        if person
                        else "",
                        "applicant_phone": f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
                        if person
                        else "",
                        "organization": {
                            RequesterKind.DEPARTMENT: "区市场监管局综合执法科",
                            RequesterKind.LAWYER: "广东南沙律师事务所",
                            RequesterKind.STATE_ORGAN: "南沙区人民法院",
                            RequesterKind.BANKRUPTCY_ADMIN: "广州破产管理人协会成员单位",
                        }.get(kind, ""),
                        "purpose": "核查登记信息" if not full else "查阅企业登记档案（完整档案）",
                        "full_file": full,
                        "requester_id": self.department.pk
                        if kind == RequesterKind.DEPARTMENT and self.department
                        else None,
                        "submitted_at": submitted,
                        "due_at": due,
                        "decided_by_id": self.manager.pk if full and served and self.manager else None,
                        "decided_at": served if full else None,
                        "served_at": served,
                        "grant_until": served + dt.timedelta(days=7) if full and served else None,
                        "proof": "",
                        "proof_sha256": "",
                        "decision_reason": "",
                        "access_token_hash": "",
                        "created_at": submitted,
                        "updated_at": served or submitted,
                    }
                    rows.append(row)
            day += dt.timedelta(days=1)
        ids = self.loader.ids(AccessRequest, len(rows))
        for pk, row in zip(ids, rows, strict=True):
            row["id"] = pk
            if row["served_at"] is not None:
                logs.append(
                    {
                        "occurred_at": row["served_at"],
                        "authority_id": self.authority.pk,
                        "user_id": row["requester_id"],
                        "access_request_id": pk,
                        "who": row["applicant_name"][:1] + "**"
                        if row["requester_kind"] != RequesterKind.DEPARTMENT
                        else row["applicant_name"],
                        "archive_id": row["archive_id"],
                        "action": ArchiveAccessLog.Action.VIEW,
                        "detail": row["reference"],
                        "watermark": "",
                    }
                )
        self.loader.insert(AccessRequest, rows)
        self.loader.insert(ArchiveAccessLog, logs)

    def _workday(self, day: dt.date, days: int) -> dt.date:
        key = (day, days)
        if key not in self._workdays:
            self._workdays[key] = add_working_days(day, days) if days else day
        return self._workdays[key]

    def _write_borrows(self, archives: list[dict]) -> None:
        rng = self.rng
        shelved = [a for a in archives if a["status"] == ArchiveStatus.SHELVED]
        borrower = self.department or self.archivist
        if not shelved:
            return
        rows = []
        picks = rng.sample(shelved, min(len(shelved), round(120 * self.ctx.scale) + 3))
        year_end = _at(dt.date(self.year, 12, 31), 17)
        settled_until = self.ctx.settled_until
        still_out: list[int] = []
        for n, archive in enumerate(picks):
            requested = _at(dt.date(self.year, 1, 10) + dt.timedelta(days=rng.randint(0, 330)), 10)
            lent = requested + dt.timedelta(hours=rng.randint(2, 30))
            days = rng.choice((3, 5, 7, 7, 14))
            due = lent + dt.timedelta(days=days)
            returned = lent + dt.timedelta(days=rng.randint(1, days))
            if n < 3:
                # Three are still out at year end, one of them overdue; they come back in January.
                lent = year_end - dt.timedelta(days=(20 if n == 0 else 2))
                due = lent + dt.timedelta(days=7)
                returned = due + dt.timedelta(days=rng.randint(16, 22) if n == 0 else -rng.randint(0, 2))
            out = returned > settled_until
            if out:
                returned = None
                archive["status"] = ArchiveStatus.LENT
                still_out.append(archive["id"])
            rows.append(
                {
                    "authority_id": self.authority.pk,
                    "archive_id": archive["id"],
                    "kind": BorrowKind.PAPER,
                    "state": BorrowState.LENT if out else BorrowState.RETURNED,
                    "borrower_id": borrower.pk,
                    "department": "区市场监管局综合执法科",
                    "purpose": rng.choice(("核查企业登记事项", "行政复议调卷", "法院协助调查", "信访核查")),
                    "requested_days": days,
                    "decided_by_id": (self.manager or self.archivist).pk,
                    "decided_at": requested + dt.timedelta(hours=1),
                    "lent_at": lent,
                    "due_at": due,
                    "returned_at": returned,
                    "created_at": requested,
                    "updated_at": returned or lent,
                }
            )
        self.loader.insert(BorrowRequest, rows)
        ArchiveFile.objects.filter(pk__in=still_out).update(status=ArchiveStatus.LENT)

    def _event(self, model, pk: int, action: str, to_state: str, when: dt.datetime, actor) -> None:
        self.events.append(
            {
                "occurred_at": when,
                "authority_id": self.authority.pk,
                "object_type": model._meta.model_name,
                "object_id": pk,
                "action": action,
                "from_state": "",
                "to_state": to_state,
                "actor_id": actor.pk if actor else None,
                "reason": "",
            }
        )

    def _write_events(self) -> None:
        from bizreg.archives.models import ArchiveEvent

        self.loader.insert(ArchiveEvent, self.events)


def generate_demo_scans(job, progress) -> dict:
    """The `archives.demo_scans` runner: render the demo batch's scans — two pages for each of the next
    not-yet-digitized paper items of November, named after the item's 档号 so intake files them — and
    take them in through the pipeline's own intake. Pages already in the batch are not made again."""
    import random

    from bizreg.archives.imaging import samples
    from bizreg.archives.services import digitization

    batch = DigitizationBatch.objects.select_related("created_by").get(pk=job.parameters["batch_id"])
    wanted = int(job.parameters.get("pages", DEMO_SCAN_PAGES))
    have = set(batch.pages.values_list("original_name", flat=True))
    month_start = _at(dt.date(int(job.parameters["year"]), DIGITIZED_UNTIL_MONTH + 1, 1), 0)
    items = list(
        ArchiveItem.objects.filter(
            archive__authority_id=batch.authority_id,
            source=ItemSource.PAPER,
            digitization=DigitizationStatus.NOT_DIGITIZED,
            created_at__gte=month_start,
        )
        .select_related("archive")
        .order_by("created_at", "pk")[: (wanted + 1) // 2]
    )
    rng = random.Random(f"demo-scans:{batch.number}")
    done = 0
    for item in items:
        files = []
        for page_no in (1, 2):
            name = f"{item.archival_code}-{page_no:03d}.jpg"
            if name in have:
                continue
            page = samples.generate_page(
                rng.randrange(1_000_000),
                rng.choice(_SCAN_QUALITIES),
                enterprise_name=item.archive.enterprise_name,
                uscc=item.archive.uscc or None,
            )
            files.append((name, samples.sample_file(page, "jpeg")))
        if files:
            digitization.batch_add_scans(batch=batch, actor=batch.created_by, files=files)
        done += 2
        progress(min(done, wanted), wanted)
    return {"batch": batch.number, "pages": batch.pages.count()}


@register_seeder("archives.year", after=("accounts.demo_users", "registration.year"))
def seed_archives_year(ctx: DemoContext) -> int:
    return ArchivesYear(ctx).run()
