"""Identity verification of a report taken in on the portal (实施细则 art. 51): the victim verifies online
or at the window; staff record the result before the case is accepted."""

from __future__ import annotations

from django.db import transaction

from bizreg.investigations.models import OPEN_STATES, Report, VerificationResult
from bizreg.investigations.services.events import (
    Errors,
    assert_authority,
    assert_perm,
    assert_state,
    clean_text,
    lock_case,
    record_event,
)
from bizreg.investigations.workflows import CHANGE


def report_verify(*, report: Report, actor, result: str, note: str) -> Report:
    """Record the verification result of a pending report (once: a recorded result is not overwritten)."""
    assert_perm(actor, CHANGE, "您的角色无权记录身份核验结果。")
    assert_authority(report, actor)
    errors = Errors()
    if result not in (VerificationResult.PASSED, VerificationResult.FAILED):
        errors.add("result", "核验结果只能是“核验通过”或“核验未通过”。")
    note = clean_text(note, name="note", label="核验说明", max_length=300, errors=errors)
    errors.raise_if_any()
    with transaction.atomic():
        case = lock_case(report.case)
        assert_state(case, "记录身份核验结果", OPEN_STATES)
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.verification_result != VerificationResult.PENDING:
            raise_errors = Errors()
            raise_errors.add("result", "该申请的身份核验结果已记录，不能再次修改。")
            raise_errors.raise_if_any()
        report.verification_result = result
        report.verification_note = note
        report.save(update_fields=["verification_result", "verification_note", "updated_at"])
        record_event(
            case=case,
            action="verify_identity",
            label="记录身份核验结果",
            actor=actor,
            reason=f"{VerificationResult(result).label}：{note}",
        )
    return report
