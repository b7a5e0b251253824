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


def make_user(role: Role = Role.STUDENT, **kwargs: Any) -> User:
    user: User = UserFactory(role=role, **kwargs)  # type: ignore[assignment]
    if role is Role.STAFF:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user
