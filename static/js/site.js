// Site-wide behaviour, all progressive enhancement: every feature works without this file.

// Theme switch: apply at once and save in the background instead of a full page round trip.
function initThemeSwitcher() {
  const form = document.querySelector("[data-theme-switcher]");
  if (!form) return;
  const select = form.querySelector("select[name=theme]");
  const button = form.querySelector("button[type=submit]");
  const apply = (theme) => {
    if (theme === "system") delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = theme;
  };
  if (button) button.hidden = true;
  select.addEventListener("change", async () => {
    const theme = select.value;
    apply(theme);
    const status = document.getElementById("messages");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      if (status) status.textContent = `Theme: ${select.options[select.selectedIndex].text}`;
    } catch {
      if (status) status.textContent = "The theme could not be saved; it applies to this page only.";
    }
  });
}

// Move focus to a form's error summary so screen reader and keyboard users land on it.
function focusErrorSummary() {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
}

initThemeSwitcher();
focusErrorSummary();
