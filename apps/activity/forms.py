"""The staff activity log's filter form (the page's query string, and the export's fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.activity.actions import ACTIONS
from apps.activity.selectors import LogFilters
from apps.reports.forms import SPREADSHEET_FORMATS


def action_choices() -> list[tuple[str, Any]]:
    """The empty choice ("any action"), then one group per namespace: the whole namespace
    ("accounts."), then each of its actions by name."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(ACTIONS):
        namespace = name.split(".", 1)[0]
        groups.setdefault(namespace, []).append((name, f"{ACTIONS[name].description} ({name})"))
    choices: list[tuple[str, Any]] = [("", _("Any action"))]
    for namespace, actions in groups.items():
        whole = (f"{namespace}.", _("Every %(namespace)s action") % {"namespace": namespace})
        choices.append((namespace, [whole, *actions]))
    return choices


class ActivityLogFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Actor's email contains"), required=False, max_length=254, strip=True
    )
    action = forms.ChoiceField(label=_("Action"), required=False, choices=action_choices)
    target = forms.CharField(label=_("Target contains"), required=False, max_length=200)
    date_from = forms.DateField(
        label=_("From (date)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("To (date, included)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ip = forms.GenericIPAddressField(label=_("IP address"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date must not be before the start date."))
        return data

    def filters(self) -> LogFilters:
        """The validated filters (call after `is_valid()`)."""
        data = self.cleaned_data
        return LogFilters(
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            target=data.get("target") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            ip=data.get("ip") or "",
        )


class ActivityLogExportForm(ActivityLogFilterForm):
    """The page's filters again (hidden fields) and the file format the button chose."""

    file_format = forms.ChoiceField(label=_("File format"), choices=SPREADSHEET_FORMATS)
