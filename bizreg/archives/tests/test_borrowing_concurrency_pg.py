"""Two lending desks handing out the same paper folder at the same moment: exactly one wins, the other gets
the clear refusal (the row lock, and uniq_paper_loan_per_archive behind it)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from bizreg.archives.models import ArchiveFile, ArchiveStatus, BorrowRequest, BorrowState
from bizreg.archives.services import borrowing as services
from bizreg.testing.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_desks_lending_one_folder_one_wins(
    archive, shelf, department_viewer, manager, archivist, make_user
):
    ArchiveFile.objects.filter(pk=archive.pk).update(status=ArchiveStatus.SHELVED, location=shelf)
    second_archivist = make_user("archivist", username="archivist_two")
    borrows = [
        services.borrow_approve(
            borrow=services.borrow_request(
                archive=archive, actor=who, kind="paper", purpose="核对", department="科室", requested_days=3
            ),
            actor=manager,
        )
        for who in (department_viewer, manager)
    ]

    def lend(borrow, desk):
        return lambda: services.borrow_lend(borrow=BorrowRequest.objects.get(pk=borrow.pk), actor=desk)

    outcomes = race(lend(borrows[0], archivist), lend(borrows[1], second_archivist))
    won = [o for o in outcomes if isinstance(o, BorrowRequest)]
    lost = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert "归还前不能再次借出" in str(lost[0])
    assert BorrowRequest.objects.filter(state=BorrowState.LENT).count() == 1
    assert ArchiveFile.objects.get(pk=archive.pk).status == ArchiveStatus.LENT
