"""factory_boy factories for users with a role and a verified primary email."""

from __future__ import annotations

from typing import Any

import factory
from allauth.account.models import EmailAddress

from apps.accounts.models import User
from apps.accounts.roles import Role

DEFAULT_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    display_name = factory.Faker("name")
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: Role | None, **kwargs: Any) -> None:
        """`UserFactory(role=Role.INSTRUCTOR)`; students by default."""
        if not create:
            return
        from apps.accounts.services import assign_role

        assign_role(user=self, role=extracted or Role.STUDENT)  # type: ignore[arg-type]

    @factory.post_generation
    def verified(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def consented(self, create: bool, extracted: bool | None, **kwargs: Any) -> None:
        """Accepted the current terms and privacy notice, as at sign-up (so the consent page
        does not stand in front of every page); `UserFactory(consented=False)` has not."""
        if create and extracted is not False:
            from apps.privacy.consent import accept_current_documents
            from apps.privacy.models import Consent

            accept_current_documents(user=self, source=Consent.Source.SEED)


def give_totp(user: User, secret: str | None = None) -> str:
    """Give `user` a real, active allauth TOTP authenticator; returns its secret.

    Compute a valid code with `totp_code(secret)`.
    """
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = secret or generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str, periods: int = 0) -> str:
    """The current six-digit code for `secret`, from allauth's own helpers; `periods` moves
    that many 30-second periods away from now (-1 is the code a phone a little slow shows)."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // app_settings.TOTP_PERIOD + periods
    return format_hotp_value(hotp_value(secret, counter))


def make_user(role: Role = Role.STUDENT, *, mfa: bool | None = None, **kwargs: Any) -> User:
    """A user with `role`. Instructors, moderators and staff get a TOTP factor by default
    (2FA is required for them, see MFA_REQUIRED_ROLES); pass `mfa=False` to leave it out,
    `mfa=True` to give one to a student."""
    user: User = UserFactory(role=role, **kwargs)  # type: ignore[assignment]
    if role is Role.STAFF:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    if mfa is None:
        mfa = role is not Role.STUDENT
    if mfa:
        give_totp(user)
    return user
