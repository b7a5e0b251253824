from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.accounts import sessions
        from apps.accounts.mfa import connect_invalidation
        from apps.accounts.roles import ensure_role_groups

        connect_invalidation()
        sessions.connect()

        post_migrate.connect(ensure_role_groups, sender=self)
