"""Consent (GDPR Art. 7): which versions of the required documents each person accepted, and the
optional purposes they gave or withdrew. Every change is one new `Consent` row (append-only).

Required documents (terms, privacy notice) are *accepted*, per version: a new version is
accepted again before the site can be used (apps.privacy.middleware). Optional purposes are
*given* or *withdrawn*, as easily one way as the other; each purpose may switch something on or
off elsewhere (reminder emails: the notification preference of the kinds that name it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.activity.services import client_ip, record
from apps.privacy.errors import (
    ConsentVersionOutdated,
    UnknownConsentPurpose,
    UnknownConsentVersion,
)
from apps.privacy.models import (
    CURRENT_CACHE_KEY,
    Consent,
    PolicyDocument,
)

REMINDER_EMAILS = "reminder_emails"


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str | Promise
    description: str | Promise
    # Bump (and keep the old rows) when the wording changes in substance; people are then shown
    # as not having given the new wording yet.
    version: str


PURPOSES: dict[str, Purpose] = {
    p.key: p
    for p in (
        Purpose(
            REMINDER_EMAILS,
            _("Session reminder emails"),
            _(
                "An email 24 hours and 15 minutes before each live session of your courses. "
                "In-app reminders are not affected."
            ),
            version="1",
        ),
    )
}


def get_purpose(key: str) -> Purpose:
    purpose = PURPOSES.get(key)
    if purpose is None:
        raise UnknownConsentPurpose()
    return purpose


# --- the current documents -------------------------------------------------------------------

# Bounded so a version published with a future date becomes current within this many seconds.
CURRENT_CACHE_SECONDS = 60
# In the session: the ids of the current documents this session's user was found to have accepted,
# so the middleware costs no query on ordinary requests.
SESSION_KEY = "privacy_accepted_documents"


@dataclass(frozen=True)
class CurrentDocument:
    pk: int
    kind: str
    version: str


def current_documents() -> list[CurrentDocument]:
    """The current version of each kind of document, in kind order (cached)."""
    cached = cache.get(CURRENT_CACHE_KEY)
    if cached is None:
        latest: dict[str, CurrentDocument] = {}
        for pk, kind, version in PolicyDocument.objects.filter(
            published_at__lte=timezone.now()
        ).values_list("pk", "kind", "version"):  # newest first per kind (Meta.ordering)
            latest.setdefault(kind, CurrentDocument(pk, kind, version))
        cached = [latest[k] for k in sorted(latest)]
        cache.set(CURRENT_CACHE_KEY, cached, CURRENT_CACHE_SECONDS)
    return list(cached)


def current_document(kind: str) -> PolicyDocument | None:
    current = {d.kind: d for d in current_documents()}.get(kind)
    return PolicyDocument.objects.filter(pk=current.pk).first() if current else None


def current_versions() -> dict[str, str]:
    """`{"privacy_notice": "1", "terms": "1"}`: what the sign-up form asks people to accept."""
    return {d.kind: d.version for d in current_documents()}


# --- reading a person's consents -------------------------------------------------------------


def pending_documents(user: Any) -> list[PolicyDocument]:
    """The current documents `user` has not accepted yet, in kind order."""
    current = [d.pk for d in current_documents()]
    accepted = set(
        Consent.objects.filter(user=user, document_id__in=current).values_list(
            "document_id", flat=True
        )
    )
    return list(
        PolicyDocument.objects.filter(pk__in=[pk for pk in current if pk not in accepted]).order_by(
            "kind"
        )
    )


def _user_of(request: HttpRequest) -> Any:
    return request.user  # signed in: the middleware asks only then


def needs_acceptance(request: HttpRequest) -> bool:
    """Whether the signed-in user still has to accept a current document. No query once this
    session's user is known to have accepted the current versions."""
    current = sorted(d.pk for d in current_documents())
    if not current or request.session.get(SESSION_KEY) == current:
        return False
    accepted = set(
        Consent.objects.filter(user=_user_of(request), document_id__in=current).values_list(
            "document_id", flat=True
        )
    )
    if accepted.issuperset(current):
        request.session[SESSION_KEY] = current
        return False
    return True


@dataclass(frozen=True)
class Acceptance:
    document: PolicyDocument
    accepted_at: datetime
    is_current: bool


def acceptances(user: Any) -> list[Acceptance]:
    """Each document version `user` accepted (first acceptance), newest version first per kind."""
    current = {d.pk for d in current_documents()}
    seen: dict[int, Acceptance] = {}
    rows = (
        Consent.objects.filter(user=user, document__isnull=False)
        .select_related("document")
        .order_by("at", "pk")
    )
    for row in rows:
        assert row.document is not None
        if row.document_id not in seen:
            seen[row.document.pk] = Acceptance(row.document, row.at, row.document.pk in current)
    return sorted(
        seen.values(), key=lambda a: (a.document.kind, -a.document.published_at.timestamp())
    )


@dataclass(frozen=True)
class PurposeState:
    purpose: Purpose
    # The latest record, None when the person was never asked (an account older than the purpose).
    latest: Consent | None

    @property
    def given(self) -> bool:
        latest = self.latest
        return latest is not None and latest.given and latest.version == self.purpose.version


def purpose_states(user: Any) -> list[PurposeState]:
    latest: dict[str, Consent] = {}
    for row in Consent.objects.filter(user=user, purpose__in=list(PURPOSES)).order_by("-at", "-pk"):
        latest.setdefault(row.purpose, row)
    return [PurposeState(p, latest.get(key)) for key, p in PURPOSES.items()]


def _latest_for_purpose(user: Any, purpose: str) -> Consent | None:
    return Consent.objects.filter(user=user, purpose=purpose).order_by("-at", "-pk").first()


# --- writes ----------------------------------------------------------------------------------


def _remember_accepted(request: HttpRequest | None, user: Any) -> None:
    if (
        request is not None
        and getattr(request, "user", None) == user
        and hasattr(request, "session")
    ):
        request.session.pop(SESSION_KEY, None)  # the next request checks (and stores) again


@transaction.atomic
def accept_documents(
    *,
    user: Any,
    versions: Mapping[str, str],
    source: str,
    request: HttpRequest | None = None,
) -> list[Consent]:
    """Record that `user` accepts the given `{kind: version}` of the required documents.

    Each must be the current version of its kind: a version that does not exist is refused
    (`unknown_consent_version`), an older one too (`consent_version_outdated`: the page was
    open while a new version came out). Nothing is recorded unless all are valid. A version
    already accepted is not recorded twice.
    """
    current = {d.kind: d for d in current_documents()}
    chosen: list[CurrentDocument] = []
    for kind, version in versions.items():
        document = current.get(kind)
        if document is not None and document.version == version:
            chosen.append(document)
            continue
        if (
            document is None
            or not PolicyDocument.objects.filter(kind=kind, version=version).exists()
        ):
            raise UnknownConsentVersion()
        raise ConsentVersionOutdated()
    already = set(
        Consent.objects.filter(user=user, document_id__in=[d.pk for d in chosen]).values_list(
            "document_id", flat=True
        )
    )
    now = timezone.now()
    ip = client_ip(request)
    created = []
    for document in chosen:
        if document.pk in already:
            continue
        row = Consent.objects.create(
            user=user,
            document_id=document.pk,
            version=document.version,
            given=True,
            at=now,
            source=source,
            ip_address=ip,
        )
        if source != Consent.Source.SEED:  # the audit log is of what people did
            record(
                user,
                "privacy.consent.given",
                row,
                request=request,
                document=document.kind,
                version=document.version,
                source=source,
            )
        created.append(row)
    _remember_accepted(request, user)
    return created


def accept_current_documents(
    *, user: Any, source: str, request: HttpRequest | None = None
) -> list[Consent]:
    """Accept every current document (the sign-up form, demo accounts, test factories)."""
    return accept_documents(user=user, versions=current_versions(), source=source, request=request)


@transaction.atomic
def set_purpose(
    *,
    user: Any,
    purpose: str,
    version: str,
    given: bool,
    source: str,
    request: HttpRequest | None = None,
) -> Consent | None:
    """Give or withdraw consent to an optional purpose, and apply it (reminder emails on/off).

    `version` is the wording the person was shown; an unknown purpose or a version that is not
    the current one is refused and nothing is recorded. Asking for the state already recorded
    records nothing more; returns the new row or None.
    """
    spec = get_purpose(purpose)
    if version != spec.version:
        raise UnknownConsentVersion()
    row = _append_purpose(user=user, spec=spec, given=given, source=source, request=request)
    _apply(user=user, purpose=purpose, given=given)
    return row


def note_purpose_change(*, user: Any, purpose: str, given: bool, source: str) -> Consent | None:
    """Record a change made elsewhere (the notification settings, an unsubscribe link) without
    applying it again; the caller already did."""
    return _append_purpose(user=user, spec=get_purpose(purpose), given=given, source=source)


def _append_purpose(
    *, user: Any, spec: Purpose, given: bool, source: str, request: HttpRequest | None = None
) -> Consent | None:
    latest = _latest_for_purpose(user, spec.key)
    if latest is not None and latest.given == given and latest.version == spec.version:
        return None
    row = Consent.objects.create(
        user=user,
        purpose=spec.key,
        version=spec.version,
        given=given,
        source=source,
        ip_address=client_ip(request),
    )
    if given or (latest is not None and latest.given):  # a first "no" at sign-up is no withdrawal
        action = "privacy.consent.given" if given else "privacy.consent.withdrawn"
        record(
            user,
            action,
            row,
            request=request,
            purpose=spec.key,
            version=spec.version,
            source=source,
        )
    return row


def _apply(*, user: Any, purpose: str, given: bool) -> None:
    from apps.notifications.kinds import kinds_needing_consent
    from apps.notifications.services import set_email_for_kind

    for kind in kinds_needing_consent(purpose):
        set_email_for_kind(user=user, kind=kind, email=given)


def record_signup(*, user: Any, reminder_emails: bool, request: HttpRequest | None = None) -> None:
    """What the sign-up form asked: the current documents accepted, the optional purposes."""
    with transaction.atomic():
        accept_current_documents(user=user, source=Consent.Source.SIGNUP, request=request)
        set_purpose(
            user=user,
            purpose=REMINDER_EMAILS,
            version=PURPOSES[REMINDER_EMAILS].version,
            given=reminder_emails,
            source=Consent.Source.SIGNUP,
            request=request,
        )
