"""The state machines of tracking, declared once; services enforce them (core.statemachine) and record every
transition (AppealEvent for appeals, simple_history for plans and issues).

Who may do what: the enterprise-service officer registers, routes, withdraws and closes appeals, and works
the plans assigned to them; a manager assigns plans; a member of the department an appeal was routed to
answers it (only that department's appeals are visible to them).
"""

from __future__ import annotations

from bizreg.core.statemachine import StateMachine, transition
from bizreg.tracking.models import AppealState, IssueState, PlanState

CHANGE_PLAN = "tracking.change_visitplan"
ASSIGN_PLAN = "tracking.assign_visitplan"
CHANGE_APPEAL = "tracking.change_appeal"
ROUTE_APPEAL = "tracking.route_appeal"
ANSWER_APPEAL = "tracking.answer_appeal"
CLOSE_APPEAL = "tracking.close_appeal"
CHANGE_ISSUE = "tracking.change_businessissue"

PLAN = StateMachine(
    state_labels=dict(PlanState.choices),
    transitions=[
        transition("assign", "分派", [PlanState.OPEN, PlanState.ASSIGNED], PlanState.ASSIGNED, ASSIGN_PLAN),
        # Set by submitting the visit made for the plan (services.visits), never by hand.
        transition("complete", "完成走访", [PlanState.OPEN, PlanState.ASSIGNED], PlanState.DONE, CHANGE_PLAN),
        transition(
            "cancel", "取消计划", [PlanState.OPEN, PlanState.ASSIGNED], PlanState.CANCELLED, ASSIGN_PLAN
        ),
    ],
)

APPEAL = StateMachine(
    state_labels=dict(AppealState.choices),
    transitions=[
        transition(
            "route", "转办", [AppealState.REGISTERED, AppealState.ROUTED], AppealState.ROUTED, ROUTE_APPEAL
        ),
        transition("answer", "反馈办理结果", [AppealState.ROUTED], AppealState.ANSWERED, ANSWER_APPEAL),
        # The officer finds the answer insufficient (or the enterprise does): back to the department.
        transition("reopen", "退回重办", [AppealState.ANSWERED], AppealState.ROUTED, ROUTE_APPEAL),
        # Closing needs feedback: the department's answer, or the officer's own when it was solved at once.
        transition(
            "close",
            "办结",
            [AppealState.REGISTERED, AppealState.ROUTED, AppealState.ANSWERED],
            AppealState.CLOSED,
            CLOSE_APPEAL,
        ),
        transition(
            "withdraw",
            "企业撤回",
            [AppealState.REGISTERED, AppealState.ROUTED],
            AppealState.WITHDRAWN,
            CHANGE_APPEAL,
        ),
    ],
)

OPEN_APPEAL_STATES = frozenset({AppealState.REGISTERED, AppealState.ROUTED, AppealState.ANSWERED})

ISSUE = StateMachine(
    state_labels=dict(IssueState.choices),
    transitions=[
        transition(
            "analyse",
            "完成原因分析",
            [IssueState.OPEN, IssueState.ANALYSED],
            IssueState.ANALYSED,
            CHANGE_ISSUE,
        ),
        transition(
            "start_measures",
            "制定改进措施",
            [IssueState.ANALYSED, IssueState.IMPROVING],
            IssueState.IMPROVING,
            CHANGE_ISSUE,
        ),
        transition("resolve", "确认解决", [IssueState.IMPROVING], IssueState.RESOLVED, CHANGE_ISSUE),
        transition("reopen", "重新打开", [IssueState.RESOLVED], IssueState.IMPROVING, CHANGE_ISSUE),
    ],
)
