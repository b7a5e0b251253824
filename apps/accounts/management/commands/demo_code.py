"""`manage.py demo_code`: the current 2FA code of the demo accounts (the published demo secret).

It computes the code from the demo secret only, so it can never reveal a real account's code.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand

from apps.accounts.seed import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff, instructor and moderator accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        now = int(time.time())
        counter, elapsed = divmod(now, app_settings.TOTP_PERIOD)
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))
        self.stdout.write(f"{code}  (valid for {app_settings.TOTP_PERIOD - elapsed} more seconds)")
