"""Access to the archive (档案查询与调阅): portal lookups of the basic record, applications for the full
file, the manager's decision, the time-limited grant, and the watermarked copies handed out.

The grant (simplest safe design): serving an approved full-file request issues a random token; only its
SHA-256 is stored (access_token_hash), so neither the database nor a backup can reopen the link. The link
/portal/archives/grant/<token>/ is shown once, to the staff member who served the request, to send to the
applicant through the channel the applicant gave (SMS/e-mail/in person). The applicant's status page
(reference + phone) says that access is ready and until when — it never shows the link: a reference is
sequential and a phone number is not a secret, so that pair must not be enough to open a file. An
applicant who lost the link asks the bureau, and staff re-issue it (a new token; the old link stops
working at once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import secrets
import warnings
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from bizreg.archives import workflows
from bizreg.archives.models import (
    AccessRequest,
    AccessState,
    ArchiveAccessLog,
    ArchiveItem,
    Classification,
    OpenStatus,
    QueryChannel,
    RequesterKind,
    ScanPage,
)
from bizreg.archives.selectors.access import archive_for_uscc, register_entry_for_uscc
from bizreg.archives.services.events import apply_transition, record_event
from bizreg.core.identifiers import normalize_uscc, validate_resident_id
from bizreg.core.masking import mask_person_name
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.core.workdays import add_working_days

REFERENCE_PREFIX = "DA"
DUE_WORKING_DAYS = 3
GRANT_DAYS = 7
MAX_GRANT_DAYS = 30
MAX_PROOF_BYTES = 10 * 1024 * 1024
_REFERENCE_ATTEMPTS = 5
# Who may apply for the full file on the portal (企业本身 and parties with a legal interest).
APPLICANT_KINDS = (
    RequesterKind.ENTERPRISE,
    RequesterKind.STATE_ORGAN,
    RequesterKind.LAWYER,
    RequesterKind.BANKRUPTCY_ADMIN,
)
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _due_at(submitted_at: dt.datetime) -> dt.datetime:
    local = timezone.localtime(submitted_at)
    day = add_working_days(local.date(), DUE_WORKING_DAYS)
    return dt.datetime.combine(day, local.time(), tzinfo=local.tzinfo)


def _new_reference(now: dt.datetime) -> str:
    prefix = f"{REFERENCE_PREFIX}{timezone.localtime(now):%Y%m%d}-"
    taken = AccessRequest.objects.filter(reference__startswith=prefix).count()
    return f"{prefix}{taken + 1:04d}"


def _create_with_reference(request: AccessRequest, now: dt.datetime) -> AccessRequest:
    """Save with the next reference of the day; a racing submission that took it makes this one retry."""
    for _attempt in range(_REFERENCE_ATTEMPTS):
        request.reference = _new_reference(now)
        try:
            with transaction.atomic():
                request.save()
            return request
        except IntegrityError:
            request.pk = None
            continue
    raise ValidationError("查询编号分配冲突，请稍后重试。")


def _log(**kwargs) -> ArchiveAccessLog:
    from bizreg.archives.services.access_log import log_access

    return log_access(**kwargs)


# --- portal: the basic record ------------------------------------------------------------------------------


def portal_lookup_record(
    *, record, query: str, request=None, now: dt.datetime | None = None
) -> AccessRequest:
    """One public lookup of an enterprise's basic record: an AccessRequest served at once (it counts in the
    query service rate) and its search logged."""
    now = now or timezone.now()
    with transaction.atomic():
        access = AccessRequest(
            authority_id=record.authority_id,
            channel=QueryChannel.PORTAL,
            requester_kind=RequesterKind.PUBLIC,
            state=AccessState.SERVED,
            archive=record.archive,
            uscc=record.uscc,
            enterprise_name=record.name[:200],
            applicant_name="",
            applicant_id_number="",
            applicant_phone="",
            purpose="基本登记信息查询",
            full_file=False,
            submitted_at=now,
            due_at=_due_at(now),
            served_at=now,
        )
        _create_with_reference(access, now)
        record_event(
            obj=access,
            action="serve",
            actor=None,
            from_state=AccessState.SUBMITTED,
            to_state=AccessState.SERVED,
            reason="网上查询基本登记信息",
        )
        _log(
            access_request=access,
            who="公众（网上查询）",
            archive=record.archive,
            action=ArchiveAccessLog.Action.SEARCH,
            detail=f"查询：{query[:100]}",
            request=request,
            authority=access.authority,
        )
    return access


# --- portal: applying for the full file ---------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedProof:
    extension: str
    data: bytes


def check_proof(*, filename: str, data: bytes) -> CheckedProof:
    """A proof is a PDF without scripts or attachments, or a JPEG/PNG image, at most 10 MB. The content
    decides the type, not the name."""
    from bizreg.archives.imaging import intake

    if not data:
        raise ValidationError({"proof": ["证明材料文件为空（0 字节），请重新选择文件。"]})
    if len(data) > MAX_PROOF_BYTES:
        raise ValidationError({"proof": ["证明材料超过 10 MB，请压缩后再上传。"]})
    kind = intake.sniff(data)
    if kind == "pdf":
        try:
            intake.check_pdf_document(data)
        except intake.ScanRejected as exc:
            raise ValidationError({"proof": [f"证明材料未通过检查：{exc.message_zh}"]}) from None
        return CheckedProof("pdf", data)
    if kind in ("jpeg", "png"):
        return CheckedProof(_check_image(data), data)
    raise ValidationError({"proof": ["证明材料只接受 PDF、JPEG 或 PNG 文件。"]})


def _check_image(data: bytes) -> str:
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # A decompression bomb (a tiny file that decodes to gigapixels) is refused, not just warned.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError({"proof": ["证明材料图像尺寸异常（疑似解压炸弹），已拒收。"]}) from None
    except Exception:  # noqa: BLE001 — any decoder failure means a corrupt image
        raise ValidationError({"proof": ["证明材料图像已损坏或无法识别。"]}) from None
    if kind not in ("JPEG", "PNG"):
        raise ValidationError({"proof": ["证明材料只接受 PDF、JPEG 或 PNG 文件。"]})
    return "jpg" if kind == "JPEG" else "png"


def application_submit(
    *,
    requester_kind: str,
    applicant_name: str,
    applicant_id_number: str,
    applicant_phone: str,
    organization: str,
    purpose: str,
    uscc: str,
    proof_name: str,
    proof_data: bytes,
    now: dt.datetime | None = None,
) -> AccessRequest:
    """An application for the full file from the portal: validated, proof checked and stored with its
    SHA-256, due 3 working days after submission."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if requester_kind not in APPLICANT_KINDS:
        errors["requester_kind"] = ["请选择申请人类别（企业本身、国家机关、律师或破产管理人）。"]
    name = (applicant_name or "").strip()
    if not name:
        errors["applicant_name"] = ["请填写申请人姓名。"]
    elif len(name) > 50:
        errors["applicant_name"] = ["申请人姓名过长。"]
    id_number = ""
    try:
        id_number = validate_resident_id(applicant_id_number)
    except ValidationError as exc:
        errors["applicant_id_number"] = exc.messages
    phone = "".join((applicant_phone or "").split())
    if not PHONE_RE.match(phone):
        errors["applicant_phone"] = ["请填写有效的手机号码（11 位）或固定电话（区号-号码）。"]
    purpose = (purpose or "").strip()
    if not purpose:
        errors["purpose"] = ["请填写查询用途。"]
    organization = (organization or "").strip()
    if requester_kind != RequesterKind.ENTERPRISE and not organization:
        errors.setdefault("organization", ["国家机关、律师和破产管理人请填写所在单位。"])
    uscc = normalize_uscc(uscc)
    entry = register_entry_for_uscc(uscc) if len(uscc) == 18 else None
    if entry is None:
        errors["uscc"] = ["未找到该统一社会信用代码对应的企业，请核对后再提交。"]
    try:
        proof = check_proof(filename=proof_name, data=proof_data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        proof = None
    if errors:
        raise ValidationError(errors)
    access = AccessRequest(
        authority_id=entry.authority_id,
        channel=QueryChannel.PORTAL,
        requester_kind=requester_kind,
        state=AccessState.SUBMITTED,
        archive=archive_for_uscc(uscc),
        uscc=uscc,
        enterprise_name=entry.name[:200],
        applicant_name=name,
        applicant_id_number=id_number,
        applicant_phone=phone,
        organization=organization[:200],
        purpose=purpose[:300],
        full_file=True,
        submitted_at=now,
        due_at=_due_at(now),
        proof_sha256=hashlib.sha256(proof.data).hexdigest(),
    )
    # The file is stored before the row: a row never points at a file that is not there.
    access.proof.save(f"proof.{proof.extension}", ContentFile(proof.data), save=False)
    with transaction.atomic():
        _create_with_reference(access, now)
        record_event(
            obj=access, action="submit", actor=None, to_state=access.state, reason="网上申请查阅完整档案"
        )
    return access


# --- staff: decision and service ---------------------------------------------------------------------------


def _locked(access_request: AccessRequest) -> AccessRequest:
    return AccessRequest.objects.select_for_update().get(pk=access_request.pk)


def access_approve(*, access_request: AccessRequest, actor, reason: str = "") -> AccessRequest:
    with transaction.atomic():
        locked = _locked(access_request)
        apply_transition(machine=workflows.ACCESS, obj=locked, action="approve", actor=actor, reason=reason)
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = reason.strip()[:300]
        locked._history_user = actor
        locked.save()
    return locked


def access_reject(*, access_request: AccessRequest, actor, reason: str) -> AccessRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["不批准时请填写理由，申请人在查询结果页可看到该理由。"]})
    with transaction.atomic():
        locked = _locked(access_request)
        apply_transition(machine=workflows.ACCESS, obj=locked, action="reject", actor=actor, reason=reason)
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = reason[:300]
        locked._history_user = actor
        locked.save()
    return locked


def access_serve(
    *, access_request: AccessRequest, actor, days: int = GRANT_DAYS, now: dt.datetime | None = None
) -> tuple[AccessRequest, str]:
    """Serve an approved full-file request: issue the grant. Returns the request and the token, which is
    not stored anywhere and must be shown to the staff member once. Calling it again on a served request
    whose grant has not ended re-issues the link (the old token stops working)."""
    now = now or timezone.now()
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise ValidationError({"days": [f"调阅有效期应为 1–{MAX_GRANT_DAYS} 天。"]})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = _locked(access_request)
        if not locked.full_file:
            raise ValidationError("该申请只查询基本登记信息，无需开通调阅。")
        if locked.archive_id is None:
            archive = archive_for_uscc(locked.uscc)
            if archive is None:
                raise ValidationError("该企业尚无电子档案，无法开通调阅；请先建立档案或告知申请人。")
            locked.archive = archive
        if locked.state == AccessState.SERVED:
            if not actor.has_perm("archives.change_accessrequest"):
                raise PermissionDenied("您的角色无权重新生成调阅链接。")
            if not locked.grant_until or locked.grant_until <= now:
                raise ValidationError("调阅有效期已过，不能重新生成链接；请申请人重新申请。")
            record_event(obj=locked, action="reissue", actor=actor, reason="重新生成调阅链接")
        else:
            if locked.state == AccessState.SUBMITTED:
                # The machine lets a basic query be served straight away; the full file waits for approval.
                raise TransitionNotAllowed("完整档案须经审核批准后才能开通调阅。")
            apply_transition(machine=workflows.ACCESS, obj=locked, action="serve", actor=actor)
            locked.served_at = now
            locked.grant_until = now + dt.timedelta(days=days)
        locked.access_token_hash = token_hash(token)
        locked._history_user = actor
        locked.save()
    return locked, token


# --- the grant, from the applicant's side ------------------------------------------------------------------


class GrantRefused(Exception):
    """Access through a grant link refused; `expired` tells the page to explain the end of the grant."""

    def __init__(
        self,
        message: str,
        *,
        access_request: AccessRequest | None = None,
        expired: bool = False,
        item: ArchiveItem | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.access_request = access_request
        self.expired = expired
        self.item = item


def grant_holder(access_request: AccessRequest) -> str:
    return f"{mask_person_name(access_request.applicant_name)}（{access_request.reference}）"


def grant_resolve(*, token: str, now: dt.datetime | None = None) -> AccessRequest:
    """The served request the token opens, or GrantRefused (unknown token, or the grant has ended)."""
    now = now or timezone.now()
    if not token or len(token) > 100:
        raise GrantRefused("调阅链接无效。")
    found = (
        AccessRequest.objects.filter(access_token_hash=token_hash(token)).select_related("archive").first()
    )
    if found is None:
        raise GrantRefused("调阅链接无效。")
    if found.state == AccessState.EXPIRED or (found.grant_until and found.grant_until <= now):
        if found.state == AccessState.SERVED:
            with transaction.atomic():
                locked = _locked(found)
                if locked.state == AccessState.SERVED:
                    apply_transition(
                        machine=workflows.ACCESS,
                        obj=locked,
                        action="expire",
                        actor=None,
                        reason="调阅有效期届满",
                    )
                    locked.save(update_fields=["state", "updated_at"])
        raise GrantRefused("调阅有效期已过。", access_request=found, expired=True)
    if found.state != AccessState.SERVED or found.archive_id is None:
        raise GrantRefused("调阅链接无效。", access_request=found)
    return found


def grant_denied(*, refusal: GrantRefused, request=None, detail: str = ""):
    access = refusal.access_request
    item = refusal.item
    return _log(
        access_request=access,
        who=grant_holder(access) if access else "外部访问者",
        archive=access.archive if access else None,
        item=item,
        action=ArchiveAccessLog.Action.DENIED,
        detail=(detail or refusal.message)[:300],
        request=request,
        authority=access.authority if access else None,
    )


def grant_item(*, access_request: AccessRequest, item_id) -> ArchiveItem:
    """The item of the granted archive; GrantRefused for an item of another archive or an internal one."""
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        raise GrantRefused("该档案件不在调阅范围内。", access_request=access_request) from None
    item = ArchiveItem.objects.filter(pk=item_id).select_related("archive").first()
    if item is None or item.archive_id != access_request.archive_id:
        # The other archive's item is named in the log (which item was tried), not in the answer.
        raise GrantRefused("该档案件不在本次批准调阅的档案范围内。", access_request=access_request, item=item)
    if item.classification == Classification.INTERNAL:
        raise GrantRefused("该档案件为内部文件，不对外提供。", access_request=access_request, item=item)
    return item


def grant_log_view(*, access_request: AccessRequest, request=None) -> ArchiveAccessLog:
    return _log(
        access_request=access_request,
        who=grant_holder(access_request),
        archive=access_request.archive,
        action=ArchiveAccessLog.Action.VIEW,
        detail="查看调阅档案目录",
        request=request,
        authority=access_request.authority,
    )


# --- watermarked copies ------------------------------------------------------------------------------------


def watermark_text(*, who: str, now: dt.datetime | None = None, use: str = "下载") -> str:
    when = timezone.localtime(now or timezone.now())
    return f"{who} {when:%Y-%m-%d %H:%M} {use} 仅供查询使用"[:200]


def _read_item(item: ArchiveItem) -> bytes:
    from bizreg.archives.services.digitization import item_ensure_file

    item = item_ensure_file(item=item)
    if not item.e_file:
        raise ValidationError("该档案件尚无电子文件。")
    try:
        with item.e_file.open("rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError):
        raise ValidationError("该档案件的电子文件暂时无法读取，请联系档案管理员。") from None


def watermarked_copy(
    *,
    item: ArchiveItem,
    who: str,
    user=None,
    access_request: AccessRequest | None = None,
    request=None,
) -> tuple[bytes, str]:
    """The item's PDF with who/when stamped on every page, and its download logged with that text."""
    from bizreg.archives.imaging.pdf import watermark_pdf

    data = _read_item(item)
    text = watermark_text(who=who)
    stamped = watermark_pdf(data, text)
    _log(
        user=user,
        access_request=access_request,
        who=who,
        archive=item.archive,
        item=item,
        action=ArchiveAccessLog.Action.DOWNLOAD,
        detail=item.archival_code,
        watermark=text,
        request=request,
        authority=item.archive.authority,
    )
    return stamped, text


def watermarked_page_image(
    *, item: ArchiveItem, page: ScanPage, number: int, who: str, user, request=None
) -> bytes:
    """One scanned page of the item as shown on screen: who/when drawn across it, the view logged."""
    from bizreg.archives.imaging.pdf import watermark_image

    try:
        with page.processed.open("rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError, ValueError):
        raise ValidationError("该页图像文件缺失，请联系档案管理员。") from None
    text = watermark_text(who=who, use="查看")
    stamped = watermark_image(data, text)
    _log(
        user=user,
        who=who,
        archive=item.archive,
        item=item,
        action=ArchiveAccessLog.Action.VIEW,
        detail=f"{item.archival_code} 第 {number} 页图像",
        watermark=text,
        request=request,
        authority=item.archive.authority,
    )
    return stamped


def staff_item_refused(*, user, item: ArchiveItem | None, reason: str, request=None) -> ArchiveAccessLog:
    return _log(
        user=user,
        who=user.get_username(),
        archive=item.archive if item else None,
        item=item,
        action=ArchiveAccessLog.Action.DENIED,
        detail=reason[:300],
        request=request,
        authority=item.archive.authority if item else None,
    )


def staff_item_to_open(*, user, pk, request=None) -> ArchiveItem:
    """The item if this staff user may open it (download, page image); otherwise the refusal is logged
    and PermissionDenied raised (403 on the pages and in the API)."""
    from bizreg.archives.selectors.access import item_for_staff

    item = item_for_staff(user=user, pk=pk)
    if item is None:
        staff_item_refused(user=user, item=None, reason=f"档案件 #{pk} 不存在或不属于本机关", request=request)
        raise PermissionDenied("无权查看该档案件。")
    refusal = staff_may_open(user=user, item=item)
    if refusal:
        staff_item_refused(user=user, item=item, reason=refusal, request=request)
        raise PermissionDenied(refusal)
    return item


def staff_may_open(*, user, item: ArchiveItem) -> str:
    """ "" when the staff user may open the item, else the reason of the refusal."""
    if not user.has_perm("archives.view_archiveitem"):
        return "无权查看档案件。"
    restricted = item.open_status != OpenStatus.OPEN or item.classification == Classification.INTERNAL
    if restricted and not user.has_perm("archives.view_controlled_items"):
        return "该档案件为控制使用或内部文件，您的角色无权查看。"
    return ""


def proof_log_download(*, access_request: AccessRequest, user, request=None) -> ArchiveAccessLog:
    return _log(
        user=user,
        access_request=access_request,
        who=user.get_username(),
        archive=access_request.archive,
        action=ArchiveAccessLog.Action.DOWNLOAD,
        detail=f"证明材料 {access_request.reference}",
        request=request,
        authority=access_request.authority,
    )
