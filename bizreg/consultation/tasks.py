"""Celery tasks of the consultation module: thin wrappers over services (the work lives there)."""

from celery import shared_task


@shared_task(name="consultation.deliver_message", bind=True, max_retries=5, default_retry_delay=60)
def deliver_message(self, message_id: int) -> str:
    """Send an outbound ticket message on its channel (SMTP, WeChat customer-service API, webhook)."""
    from bizreg.consultation.services.delivery import DeliveryError
    from bizreg.consultation.services.delivery import deliver_message as deliver

    try:
        return deliver(message_id)
    except DeliveryError as exc:
        # The failure is already recorded on the message; a gateway that is down now may be up later.
        raise self.retry(exc=exc) from exc


@shared_task(name="consultation.poll_mailbox")
def poll_mailbox() -> int:
    """Read new e-mail from the consultation mailbox into tickets."""
    from bizreg.consultation.services.email_channel import poll_mailbox as poll

    return poll()


@shared_task(name="consultation.escalate_tickets")
def escalate_tickets() -> int:
    """Escalate complaints (and other tickets) whose SLA is running out."""
    from bizreg.consultation.services.tickets import escalate_due_tickets

    return escalate_due_tickets()


@shared_task(name="consultation.notify_stale_articles")
def notify_stale_articles() -> int:
    """Flag articles past their review-by date to their owners (知识新鲜度)."""
    from bizreg.consultation.services.knowledge import notify_stale_articles as notify

    return notify()
