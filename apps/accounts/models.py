"""Users (email login, display name) and their profile: bio, avatar and preferences."""

from __future__ import annotations

import zoneinfo
from datetime import tzinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import TimeStampedModel


def normalize_email_address(email: str) -> str:
    """The one stored form of an address: sign-in and uniqueness ignore case."""
    return BaseUserManager.normalize_email(email.strip()).lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email_address(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("learn", "Can enroll in courses and join sessions"),
            ("teach", "Can create courses and host live sessions"),
            ("moderate", "Can moderate forums and chat"),
            ("manage_site", "Can manage users and site settings"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        # Forms (the admin's included) must store what create_user stores, or one person
        # could hold two accounts whose addresses differ only in case.
        self.email = normalize_email_address(self.email or "")

    def save(self, *args: Any, **kwargs: Any) -> None:
        creating = self._state.adding
        super().save(*args, **kwargs)
        if creating:
            # Every user has exactly one profile from the moment they exist.
            Profile.objects.get_or_create(user=self)

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Theme(models.TextChoices):
    SYSTEM = "system", _("System setting")
    LIGHT = "light", _("Light")
    DARK = "dark", _("Dark")
    HIGH_CONTRAST = "contrast", _("High contrast")


def zone_named(name: str | None) -> tzinfo:
    """The time zone called `name`; the site's (TIME_ZONE) when unset or unknown."""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_default_timezone()


def _time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def _avatar_path(instance: Profile, filename: str) -> str:
    # The name is chosen by the server (see avatars.py), never taken from the upload.
    return f"avatars/{filename}"


class Profile(TimeStampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    bio = models.TextField(_("about you"), max_length=2000, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to=_avatar_path, blank=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", choices=_time_zone_choices
    )
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    theme = models.CharField(_("theme"), max_length=16, choices=Theme.choices, default=Theme.SYSTEM)
    captions_on = models.BooleanField(
        _("show captions by default"),
        default=False,
        help_text=_("Lesson videos start with captions on when a caption track exists."),
    )

    class Meta:
        verbose_name = _("profile")

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def zone(self) -> tzinfo:
        return zone_named(self.time_zone)
