"""The victim's satisfaction survey after closing (indicator 9), answered once on the portal."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bizreg.investigations.models import VictimSurvey
from bizreg.investigations.services.events import text

MAX_COMMENT = 2000


def survey_answer(*, token: str, score: int, comment: str = "") -> VictimSurvey:
    """Record the answer (score 1–5, 4 and 5 count as satisfied); a second answer is refused."""
    token = text(token)
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if isinstance(score, bool) or not 1 <= value <= 5 or str(score).strip() not in {str(value), f"{value}.0"}:
        raise ValidationError({"score": ["请选择 1–5 分的满意度。"]})
    comment = text(comment)
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": [f"意见建议不能超过 {MAX_COMMENT} 个字。"]})
    with transaction.atomic():
        survey = VictimSurvey.objects.select_for_update().filter(token=token).first() if token else None
        if survey is None:
            raise ValidationError({"token": ["问卷链接无效，请核对短信中的链接。"]})
        if survey.answered_at is not None:
            raise ValidationError({"token": ["该问卷已填写，不能重复提交。感谢您的评价。"]})
        survey.score = value
        survey.comment = comment
        survey.answered_at = timezone.now()
        survey.save(update_fields=["score", "comment", "answered_at"])
    return survey
