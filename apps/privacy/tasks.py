from __future__ import annotations

import logging

from celery import shared_task

from apps.privacy import retention, services

logger = logging.getLogger(__name__)


@shared_task(name="privacy.process_erasures", acks_late=True)
def process_erasures() -> int:
    return services.process_erasures()


@shared_task(name="privacy.apply_retention", acks_late=True)
def apply_retention() -> dict[str, int]:
    """Beat runs this daily: delete what is past its retention period (apps/privacy/retention.py).
    Safe to run twice or at once."""
    counts = retention.apply_retention()
    logger.info(
        "privacy.retention.applied",
        extra={"event": "privacy.retention.applied", **counts},
    )
    return counts
