"""Helpers every performance service uses: the transition log, evidence files, the closed-year guard."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from django.core.exceptions import ValidationError

from bizreg.performance.models import PerformanceTransitionLog, Project, ProjectStatus

EVIDENCE_EXTENSIONS = {".pdf", ".jpg", ".jpeg", ".png", ".docx", ".xlsx", ".doc", ".xls", ".ofd"}
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024


def record_transition(*, obj, action: str, from_state: str, to_state: str, actor, reason: str = "") -> None:
    PerformanceTransitionLog.objects.create(
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor=actor,
        reason=reason,
    )


def check_evidence_file(upload) -> str:
    """Validate an uploaded evidence file (type and size) and return its SHA-256; raise ValidationError."""
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in EVIDENCE_EXTENSIONS:
        allowed = "、".join(sorted(e.lstrip(".") for e in EVIDENCE_EXTENSIONS))
        raise ValidationError({"evidence": f"不支持的文件类型“{suffix or '无扩展名'}”，仅限：{allowed}。"})
    if upload.size > EVIDENCE_MAX_BYTES:
        raise ValidationError({"evidence": f"文件过大（{upload.size // 1024 // 1024} MB），上限 20 MB。"})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def ensure_year_open(project: Project, what: str) -> None:
    """Refuse a change to a closed year (结项后不得再调整)."""
    if project.status == ProjectStatus.CLOSED:
        raise ValidationError(f"{project.fiscal_year} 年度项目“{project.name}”已结项，不能{what}。")
