from __future__ import annotations

from celery import shared_task

from apps.privacy import services


@shared_task(name="privacy.process_erasures", acks_late=True)
def process_erasures() -> int:
    return services.process_erasures()
