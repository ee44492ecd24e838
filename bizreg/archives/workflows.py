"""The state machines of the archives app, declared once; services enforce them (core.statemachine) and
record every transition as an ArchiveEvent (services.events.record_transition)."""

from __future__ import annotations

from bizreg.archives.models import (
    AccessState,
    ArchiveStatus,
    BatchState,
    BorrowState,
    PageQA,
    TransferState,
)
from bizreg.core.statemachine import StateMachine, transition

ARCHIVE = StateMachine(
    state_labels=dict(ArchiveStatus.choices),
    transitions=[
        transition(
            "shelve", "上架", [ArchiveStatus.PENDING], ArchiveStatus.SHELVED, "archives.shelve_archive"
        ),
        transition(
            "relocate", "调整库位", [ArchiveStatus.SHELVED], ArchiveStatus.SHELVED, "archives.shelve_archive"
        ),
        # Lending and returning the paper folder happen through a BorrowRequest (BORROW below).
        transition("lend", "借出", [ArchiveStatus.SHELVED], ArchiveStatus.LENT, "archives.lend_archive"),
        transition("return", "归还", [ArchiveStatus.LENT], ArchiveStatus.SHELVED, "archives.lend_archive"),
        # The folder went to the digitization contractor with a transfer list; counted back, it waits to be
        # shelved again.
        transition(
            "receive_back",
            "清点返还待上架",
            [ArchiveStatus.SHELVED],
            ArchiveStatus.PENDING,
            "archives.receive_transferlist",
        ),
        transition(
            "move_out",
            "迁出",
            [ArchiveStatus.PENDING, ArchiveStatus.SHELVED],
            ArchiveStatus.MOVED_OUT,
            "archives.move_archive",
        ),
        transition(
            "merge",
            "合并至接收档案",
            [ArchiveStatus.PENDING, ArchiveStatus.SHELVED],
            ArchiveStatus.MOVED_OUT,
            "archives.move_archive",
        ),
    ],
)

TRANSFER = StateMachine(
    state_labels=dict(TransferState.choices),
    transitions=[
        transition(
            "sign", "确认清单", [TransferState.DRAFT], TransferState.SIGNED, "archives.sign_transferlist"
        ),
        transition(
            "send", "移交扫描", [TransferState.SIGNED], TransferState.SENT, "archives.change_transferlist"
        ),
        transition(
            "receive",
            "接收清点",
            [TransferState.SENT],
            TransferState.RECEIVED,
            "archives.receive_transferlist",
        ),
        transition(
            "cancel",
            "作废",
            [TransferState.DRAFT, TransferState.SIGNED],
            TransferState.CANCELLED,
            "archives.change_transferlist",
        ),
    ],
)

BORROW = StateMachine(
    state_labels=dict(BorrowState.choices),
    transitions=[
        transition(
            "approve", "批准", [BorrowState.REQUESTED], BorrowState.APPROVED, "archives.approve_borrow"
        ),
        transition(
            "reject", "不批准", [BorrowState.REQUESTED], BorrowState.REJECTED, "archives.approve_borrow"
        ),
        transition(
            "cancel",
            "撤回",
            [BorrowState.REQUESTED, BorrowState.APPROVED],
            BorrowState.CANCELLED,
            None,  # the borrower withdraws their own request; the service checks it is theirs
        ),
        transition("lend", "借出/开通", [BorrowState.APPROVED], BorrowState.LENT, "archives.lend_archive"),
        transition("return", "归还/关闭", [BorrowState.LENT], BorrowState.RETURNED, "archives.lend_archive"),
    ],
)

ACCESS = StateMachine(
    state_labels=dict(AccessState.choices),
    transitions=[
        transition(
            "approve", "批准", [AccessState.SUBMITTED], AccessState.APPROVED, "archives.approve_accessrequest"
        ),
        transition(
            "reject",
            "不批准",
            [AccessState.SUBMITTED],
            AccessState.REJECTED,
            "archives.approve_accessrequest",
        ),
        # Basic (open) records are served without approval; approved full files once the grant is issued.
        transition(
            "serve",
            "提供查询结果",
            [AccessState.SUBMITTED, AccessState.APPROVED],
            AccessState.SERVED,
            "archives.change_accessrequest",
        ),
        transition("expire", "调阅到期", [AccessState.SERVED], AccessState.EXPIRED, None),
    ],
)

BATCH = StateMachine(
    state_labels=dict(BatchState.choices),
    transitions=[
        transition(
            "process",
            "图像处理",
            [BatchState.INTAKE, BatchState.REWORK, BatchState.FAILED],
            BatchState.PROCESSING,
            "archives.operate_digitization",
        ),
        transition("ocr", "文字识别", [BatchState.PROCESSING], BatchState.OCR, None),
        transition("index", "著录标引", [BatchState.OCR], BatchState.INDEXING, None),
        transition(
            "to_qa", "提交质检", [BatchState.INDEXING], BatchState.QA, "archives.operate_digitization"
        ),
        transition("rework", "退回返工", [BatchState.QA], BatchState.REWORK, "archives.qa_digitization"),
        transition(
            "import", "质检通过入库", [BatchState.QA], BatchState.IMPORTING, "archives.qa_digitization"
        ),
        transition("done", "入库完成", [BatchState.IMPORTING], BatchState.DONE, None),
        transition(
            "fail",
            "失败",
            [BatchState.PROCESSING, BatchState.OCR, BatchState.INDEXING, BatchState.IMPORTING],
            BatchState.FAILED,
            None,
        ),
    ],
)

PAGE_QA = StateMachine(
    state_labels=dict(PageQA.choices),
    transitions=[
        transition(
            "pass", "合格", [PageQA.PENDING, PageQA.REJECTED], PageQA.PASSED, "archives.qa_digitization"
        ),
        transition(
            "reject", "退回", [PageQA.PENDING, PageQA.PASSED], PageQA.REJECTED, "archives.qa_digitization"
        ),
    ],
)
