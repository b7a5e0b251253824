"""Export, erasure: the privacy registry put to work."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta, tzinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.activity.services import record
from apps.core.personal_data import declarations
from apps.privacy.errors import ErasureAlreadyRequested, NoErasureToCancel
from apps.privacy.models import ErasureRequest
from apps.reports.models import Report
from apps.reports.sources import Row, Source

DELETED_NAME = "Deleted user"


# --- export (Art. 15/20) ---------------------------------------------------------------------


def request_export(user: Any, *, request: Any = None) -> Report:
    from apps.reports.services import request_report

    report = request_report(actor=user, kind=Report.Kind.DATA_EXPORT, file_format=Report.Format.ZIP)
    record(user, "privacy.export.requested", report, request=request)
    return report


def export_files(user: Any) -> list[Row]:
    """`[name, json text]` for every registered app (even when empty), then a manifest."""
    return [row for chunk in _export_chunks(user) for row in chunk]


def _export_chunks(user: Any) -> Iterator[list[Row]]:
    """One chunk per app, then the manifest: the report run commits its progress after each,
    and holds one app's data in memory at a time."""
    for declaration in declarations():
        data = declaration.exporter(user)
        yield [[f"{declaration.app_label}.json", json.dumps(data, indent=2, sort_keys=True)]]
    manifest = {
        "generated_at": timezone.now().isoformat(),
        "user_id": user.pk,
        "files": [
            {"file": f"{d.app_label}.json", "purpose": d.purpose, "categories": list(d.categories)}
            for d in declarations()
        ],
    }
    yield [["manifest.json", json.dumps(manifest, indent=2)]]


def data_export_source(report: Report, zone: tzinfo, chunk_size: int) -> Source:
    count = len(declarations()) + 1
    return Source(
        title="data-export", columns=(), total=count, chunks=_export_chunks(report.requested_by)
    )


# --- erasure (Art. 17) -----------------------------------------------------------------------


def grace() -> timedelta:
    return timedelta(days=settings.PRIVACY_ERASURE_GRACE_DAYS)


def pending_erasure(user: Any) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(
        user=user, status__in=[ErasureRequest.Status.PENDING, ErasureRequest.Status.RUNNING]
    ).first()


def request_erasure(user: Any, *, request: Any = None) -> ErasureRequest:
    """A pending erasure, due after the grace period. Asking twice changes nothing."""
    if pending_erasure(user) is not None:
        raise ErasureAlreadyRequested()
    try:
        with transaction.atomic():
            erasure = ErasureRequest.objects.create(user=user, due_at=timezone.now() + grace())
    except IntegrityError as exc:  # a concurrent second request
        raise ErasureAlreadyRequested() from exc
    record(user, "privacy.erasure.requested", request=request, due_at=erasure.due_at.isoformat())
    return erasure


def cancel_erasure(user: Any, *, request: Any = None) -> ErasureRequest:
    with transaction.atomic():
        erasure = (
            ErasureRequest.objects.select_for_update()
            .filter(user=user, status=ErasureRequest.Status.PENDING)
            .first()
        )
        if erasure is None:
            raise NoErasureToCancel()
        erasure.status = ErasureRequest.Status.CANCELLED
        erasure.cancelled_at = timezone.now()
        erasure.save(update_fields=["status", "cancelled_at"])
    record(user, "privacy.erasure.cancelled", request=request)
    return erasure


def end_sessions(user: Any) -> int:
    """End every session of `user`: allauth.usersessions keeps one row per signed-in session."""
    from allauth.usersessions.models import UserSession

    sessions = UserSession.objects.purge_and_list(user)
    for session in sessions:
        session.end()
    return len(sessions)


def anonymise(user: Any) -> None:
    user.email = f"erased-{secrets.token_hex(12)}@invalid.example"
    if hasattr(user, "display_name"):
        user.display_name = DELETED_NAME
    for name in ("first_name", "last_name"):
        if hasattr(user, name):
            setattr(user, name, "")
    user.set_unusable_password()
    user.is_active = False
    user.save()


def erase_user(user: Any) -> None:
    """Every app's eraser, then the user row anonymised, in one transaction; sessions ended."""
    pk = user.pk
    with transaction.atomic():
        for declaration in declarations():
            declaration.eraser(user)
        anonymise(user)
        transaction.on_commit(lambda: end_sessions_by_pk(pk))
    record(None, "privacy.erasure.completed", user_ref=pk)


def end_sessions_by_pk(pk: int) -> None:
    user = get_user_model().objects.filter(pk=pk).first()
    if user is not None:
        end_sessions(user)


def run_erasure(erasure_id: int) -> bool:
    """Run one due erasure exactly once: row lock, status, attempt. True if it ran now."""
    with transaction.atomic():
        erasure = (
            ErasureRequest.objects.select_for_update()
            .filter(
                pk=erasure_id,
                status__in=[ErasureRequest.Status.PENDING, ErasureRequest.Status.RUNNING],
                due_at__lte=timezone.now(),
            )
            .first()
        )
        if erasure is None or erasure.user is None:
            return False
        erasure.attempts += 1
        erasure.status = ErasureRequest.Status.RUNNING
        erasure.save(update_fields=["attempts", "status"])
        erase_user(erasure.user)
        erasure.status = ErasureRequest.Status.DONE
        erasure.completed_at = timezone.now()
        erasure.save(update_fields=["status", "completed_at"])
    return True


def process_erasures() -> int:
    due = ErasureRequest.objects.filter(
        status__in=[ErasureRequest.Status.PENDING, ErasureRequest.Status.RUNNING],
        due_at__lte=timezone.now(),
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(due) if run_erasure(pk))
