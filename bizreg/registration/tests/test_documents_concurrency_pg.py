"""Real races on PostgreSQL: notices issued at the same moment get distinct numbers without gaps."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import pytest

from bizreg.core import pdf
from bizreg.registration.models import Notice, NoticeKind
from bizreg.registration.services import documents
from bizreg.registration.tests.docs_fixtures import clerk, make_case, private_media  # noqa: F401
from bizreg.testing.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_ten_notices_at_once_are_numbered_one_to_ten(authority, clerk):
    pdf.register_cjk_font()
    cases = [make_case(authority) for _ in range(10)]
    # The series does not exist yet: the racers also race to create its counter row.
    outcomes = race(
        *[
            lambda c=c: documents.notice_issue(case=c, kind=NoticeKind.APPROVAL_ESTABLISHMENT, actor=clerk)
            for c in cases
        ]
    )
    assert all(isinstance(o, Notice) for o in outcomes), outcomes
    numbers = sorted(o.number for o in outcomes)
    year = outcomes[0].issued_at.astimezone().year
    assert numbers == [f"440115登设字〔{year}〕第{n:05d}号" for n in range(1, 11)]
