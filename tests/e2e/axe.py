"""axe-core for the browser tests: the bundled script, the WCAG 2.1 AA tags and the run call.

axe is injected with page.evaluate, which runs through the DevTools protocol and is not subject
to the site's CSP (an inline <script> without the nonce would be), so no `bypass_csp` is needed
and the pages are checked exactly as served.
"""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary || ""})),
  }));
}"""
