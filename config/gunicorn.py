"""gunicorn settings that need code (scripts/serve passes this file with -c)."""

import logging
import threading

WARM_UP_DELAY_SECONDS = 8


def post_worker_init(worker) -> None:
    """Build the answering engine's indexes in the background as soon as a worker is up, so the first
    question (the portal chat, a WeChat message with its 5-second reply window) does not wait for it."""

    def warm() -> None:
        from django.db import connections

        try:
            from bizreg.consultation.answering.index import warm_indexes

            warm_indexes()
        except Exception:  # a missing table before `migrate`, say: the index is then built on first use
            logging.getLogger("bizreg.consultation").exception("答疑引擎索引预热失败，将在首次提问时构建。")
        finally:
            connections.close_all()  # this thread's own connections; the worker's threads have theirs

    # A few seconds late: loading jieba's dictionary holds the interpreter lock for seconds, and a worker that
    # has just come up should answer its first pages first.
    timer = threading.Timer(WARM_UP_DELAY_SECONDS, warm)
    timer.name, timer.daemon = "answer-index-warm-up", True
    timer.start()
