"""The investigation case's state machine, declared once; services enforce it (core.statemachine) and record
every transition as a CaseEvent.

Who may do what: investigators take in, accept, investigate, suspend, publish the notice and close;
a manager approves the extension and makes the decision (撤销/不予撤销/移送).
"""

from __future__ import annotations

from bizreg.core.statemachine import StateMachine, transition
from bizreg.investigations.models import CaseState

CHANGE = "investigations.change_investigationcase"
ACCEPT = "investigations.accept_investigationcase"
EXTEND = "investigations.approve_investigation_extension"
DECIDE = "investigations.decide_investigationcase"

CASE = StateMachine(
    state_labels=dict(CaseState.choices),
    transitions=[
        transition("accept", "受理", [CaseState.RECEIVED], CaseState.INVESTIGATING, ACCEPT),
        transition("not_accept", "不予受理", [CaseState.RECEIVED], CaseState.NOT_ACCEPTED, ACCEPT),
        transition(
            "merge",
            "并入其他案件",
            [CaseState.RECEIVED, CaseState.INVESTIGATING, CaseState.SUSPENDED],
            CaseState.MERGED,
            CHANGE,
        ),
        transition("extend", "延长调查期限", [CaseState.INVESTIGATING], CaseState.INVESTIGATING, EXTEND),
        transition("suspend", "中止调查", [CaseState.INVESTIGATING], CaseState.SUSPENDED, CHANGE),
        transition("resume", "恢复调查", [CaseState.SUSPENDED], CaseState.INVESTIGATING, CHANGE),
        # 实施细则: the enterprise cannot be reached → 45 days' public notice before revoking.
        transition("start_notice", "发布公示", [CaseState.INVESTIGATING], CaseState.PUBLIC_NOTICE, CHANGE),
        # An objection during the notice sends the case back to investigation.
        transition("objection", "登记公示异议", [CaseState.PUBLIC_NOTICE], CaseState.INVESTIGATING, CHANGE),
        transition(
            "decide",
            "作出决定",
            [CaseState.INVESTIGATING, CaseState.PUBLIC_NOTICE],
            CaseState.DECIDED,
            DECIDE,
        ),
        transition("close", "结案", [CaseState.DECIDED, CaseState.NOT_ACCEPTED], CaseState.CLOSED, CHANGE),
    ],
)
