"""Drive the call screen (webrtc.js) of a session page in one browser page, through its DOM contract
(docs/call-screen.md) and the `window.onlineteacherCall` diagnostics hook.

Every wait polls with a deadline; a timeout fails with what the page logged, so a failing call
says why.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import AXE_RUN, AXE_SOURCE, AXE_TAGS

JOIN_TIMEOUT = 15.0
MEDIA_TIMEOUT = 20.0
POLL_INTERVAL = 0.05
STATS = "async () => window.onlineteacherCall ? await window.onlineteacherCall.stats() : {}"
# Announcements may be replaced quickly (a live region is often cleared to re-announce): record
# every text the announcer and the status line ever show.
RECORD_ANNOUNCEMENTS = """() => {
  if (window.__announced) return;
  window.__announced = [];
  for (const id of ["call-announcer", "call-status"]) {
    const node = document.getElementById(id);
    if (!node) continue;
    const note = () => { const t = node.textContent.trim(); if (t) window.__announced.push(t); };
    note();
    new MutationObserver(note).observe(node, {childList: true, subtree: true, characterData: true});
  }
}"""


class CallPage:
    """One person's browser page on a session page, with everything it logged."""

    def __init__(self, page: Any, who: str) -> None:
        self.page = page
        self.who = who
        self.log: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)

    def _on_console(self, message: Any) -> None:
        line = f"[{self.who} console.{message.type}] {message.text}"
        location = message.location or {}
        if location.get("url"):
            line += f" ({location['url']}:{location.get('lineNumber')})"
        self.log.append(line)
        if message.type == "error":
            self.errors.append(line)

    def _on_page_error(self, error: Any) -> None:
        line = f"[{self.who} pageerror] {error}"
        self.log.append(line)
        self.errors.append(line)

    # --- observing -------------------------------------------------------------------------------

    def call(self, expression: str) -> Any:
        """A property of the diagnostics hook (`state`, `peerId`, `peers`); None before it loads."""
        return self.page.evaluate(
            f"() => window.onlineteacherCall ? window.onlineteacherCall.{expression} : null"
        )

    @property
    def state(self) -> Any:
        return self.call("state")

    @property
    def peer_id(self) -> str:
        peer_id = self.call("peerId")
        assert peer_id, f"{self.who} has no peerId (state {self.state!r})"
        return str(peer_id)

    def stats(self) -> dict[str, dict[str, Any]]:
        return dict(self.page.evaluate(STATS) or {})

    def frames_from(self, peer_id: str) -> int:
        return int((self.stats().get(peer_id) or {}).get("framesDecoded") or 0)

    def describe(self) -> str:
        try:
            state = f"state={self.state!r} peerId={self.call('peerId')!r} stats={self.stats()!r}"
            status = self.page.locator("#call-status").text_content(timeout=1000)
        except Exception as exc:  # the page may be gone; still report what it logged
            state, status = f"(page not readable: {exc!r})", ""
        log = "\n    ".join(self.log[-40:]) or "(nothing logged)"
        status = (status or "").strip()
        return f"{self.who}: {state}\n  #call-status: {status!r}\n  console:\n    {log}"

    def wait(
        self,
        predicate: Callable[[], Any],
        what: str,
        *,
        timeout: float = JOIN_TIMEOUT,
        others: Iterable[CallPage] = (),
    ) -> Any:
        """The first truthy `predicate()`, or fail with every involved page's state and console."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                pages = [self, *others]
                report = "\n".join(p.describe() for p in pages)
                pytest.fail(f"{what} (not within {timeout} s)\n{report}", pytrace=False)
            time.sleep(POLL_INTERVAL)  # a polling interval, not a wait for timing

    def wait_state(self, state: str, *, timeout: float = JOIN_TIMEOUT) -> None:
        self.wait(
            lambda: self.state == state,
            f"{self.who} never reached state {state!r}",
            timeout=timeout,
        )

    def wait_video_from(
        self, peers: Iterable[CallPage], *, timeout: float = MEDIA_TIMEOUT
    ) -> dict[str, int]:
        """framesDecoded > 0 on this page from each of `peers`; the counts seen."""
        senders = list(peers)
        ids = {p.who: p.peer_id for p in senders}

        def decoded() -> dict[str, int] | None:
            stats = self.stats()
            frames = {
                who: int((stats.get(pid) or {}).get("framesDecoded") or 0)
                for who, pid in ids.items()
            }
            return frames if all(frames.values()) else None

        result: dict[str, int] = self.wait(
            decoded,
            f"{self.who} decoded no video from {', '.join(ids)}",
            timeout=timeout,
            others=senders,
        )
        return result

    def record_announcements(self) -> None:
        self.page.evaluate(RECORD_ANNOUNCEMENTS)

    def forget_announcements(self) -> None:
        self.page.evaluate("() => { if (window.__announced) window.__announced.length = 0; }")

    def announced(self, pattern: str) -> bool:
        texts = self.page.evaluate("() => window.__announced || []")
        return any(re.search(pattern, text, re.I) for text in texts)

    # --- acting ----------------------------------------------------------------------------------

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        self.record_announcements()
        return response

    def join(self) -> None:
        """Press Join on the pre-join screen and wait until the call screen is up."""
        self.wait(
            lambda: self.state in ("prejoin", "in-call"),
            f"{self.who}: the call screen did not load (webrtc.js)",
        )
        self.page.locator("#join-button").click()
        self.wait_state("in-call")
        expect(self.page.locator("#call-screen")).to_be_visible()
        self.record_announcements()

    def open_panel(self, button: str, panel: str) -> None:
        if self.page.locator(panel).is_hidden():
            self.page.locator(button).click()
        expect(self.page.locator(panel)).to_be_visible()

    def send_chat(self, text: str) -> None:
        self.open_panel("#btn-chat", "#chat-panel")
        self.page.locator("#chat-input").fill(text)
        self.page.locator("#chat-form").get_by_role("button", name="Send").click()

    def participant(self, other: CallPage) -> Any:
        """The row for `other` in this page's participant list (the panel is opened)."""
        self.open_panel("#btn-participants", "#participants-panel")
        return self.page.locator(f'#participant-list li[data-peer-id="{other.peer_id}"]')


def start_call(*pages: CallPage, url: str) -> None:
    """Everyone opens `url` and joins, one after the other, then everyone sees everyone's video."""
    for page in pages:
        page.open(url)
        page.join()
    for page in pages:
        page.wait_video_from(p for p in pages if p is not page)


def axe_violations(page: Any) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    findings = []
    for violation in page.evaluate(AXE_RUN, AXE_TAGS):
        targets = "; ".join(
            f"{' '.join(node['target'])} -- {' '.join(node['summary'].split())}"
            for node in violation["nodes"]
        )
        findings.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']}: {targets}"
        )
    return findings


def focus_by_keyboard(page: Any, selector: str, *, max_presses: int = 120) -> None:
    """Move focus to `selector` with Tab only (arrow keys inside a roving-tabindex toolbar)."""
    matches = "(s) => !!document.activeElement && document.activeElement.matches(s)"
    in_toolbar = "() => !!document.activeElement?.closest('[role=toolbar]')"
    target_in_toolbar = page.evaluate(
        "(s) => !!document.querySelector(s)?.closest('[role=toolbar]')", selector
    )
    for _ in range(max_presses):
        if page.evaluate(matches, selector):
            return
        if target_in_toolbar and page.evaluate(in_toolbar):
            # A toolbar may keep one tab stop and move between its buttons with the arrows.
            for _ in range(20):
                page.keyboard.press("ArrowRight")
                if page.evaluate(matches, selector):
                    return
            target_in_toolbar = False  # arrows did not reach it: the toolbar has tab stops
        page.keyboard.press("Tab")
    active = page.evaluate(
        "() => document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : null"
    )
    pytest.fail(
        f"Tab never reached {selector} in {max_presses} presses (focus on {active})", pytrace=False
    )
