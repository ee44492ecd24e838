"""Real races on PostgreSQL: documents issued at the same moment get distinct numbers without gaps."""

# ruff: noqa: F811 — the shared fixtures are imported from documents_fixtures and requested by name

from __future__ import annotations

import pytest

from bizreg.core import pdf
from bizreg.investigations.models import CaseDocument, DocumentKind
from bizreg.investigations.services.documents import document_issue
from bizreg.investigations.tests.documents_fixtures import (  # noqa: F401
    ISSUED_AT,
    investigator,
    make_case,
    private_media,
)
from bizreg.testing.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_six_documents_at_once_are_numbered_one_to_six(authority, investigator):
    pdf.register_cjk_font()
    cases = [make_case(authority, investigator) for _ in range(6)]
    # The series does not exist yet: the racers also race to create its counter row.
    outcomes = race(
        *[
            lambda c=c: document_issue(
                case=c, kind=DocumentKind.DUE_DILIGENCE, actor=investigator, issued_at=ISSUED_AT
            )
            for c in cases
        ]
    )
    assert all(isinstance(o, CaseDocument) for o in outcomes), outcomes
    numbers = sorted(o.number for o in outcomes)
    assert numbers == sorted(f"440115〔2026〕冒调查字第{n}号" for n in range(1, 7))


def test_two_decision_letters_at_once_only_one_is_issued(authority, investigator, role_users):
    from bizreg.core.statemachine import TransitionNotAllowed
    from bizreg.investigations.tests.documents_fixtures import decide

    pdf.register_cjk_font()
    case = make_case(authority, investigator)
    decide(case, role_users["manager"])
    outcomes = race(
        *[
            lambda: document_issue(
                case=case, kind=DocumentKind.DECISION, actor=investigator, issued_at=ISSUED_AT
            )
            for _ in range(2)
        ]
    )
    issued = [o for o in outcomes if isinstance(o, CaseDocument)]
    refused = [o for o in outcomes if isinstance(o, TransitionNotAllowed)]
    assert len(issued) == 1 and len(refused) == 1, outcomes
    assert issued[0].number == "440115〔2026〕冒调决字第1号"
    assert CaseDocument.objects.filter(case=case).count() == 1
