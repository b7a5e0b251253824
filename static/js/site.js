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

// The header bell: a WebSocket keeps its unread count current and announces new notifications
// politely. The server closes with 4401 when the person is signed out: no reconnecting then.
const BELL_ID = "notifications-bell";
const LIVE_REGION_ID = "notifications-live";
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const KEEPALIVE_MS = 25000; // below the idle timeouts of common proxies
const CLOSE_NOT_SIGNED_IN = 4401;

function initNotificationsBell() {
  const bell = document.getElementById(BELL_ID);
  if (!bell || !bell.dataset.notificationsSocket || !("WebSocket" in window)) return;
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const url = `${scheme}//${window.location.host}${bell.dataset.notificationsSocket}`;
  let socket = null;
  let delay = RECONNECT_FIRST_MS;
  let reconnectTimer = 0;
  let keepaliveTimer = 0;
  let stopped = false;

  // Looked up each time: htmx replaces the bell out of band after "Mark as read".
  const currentBell = () => document.getElementById(BELL_ID);

  const setUnread = (value) => {
    const link = currentBell();
    const count = Number(value);
    if (!link || !Number.isInteger(count) || count < 0) return;
    const badge = link.querySelector("[data-unread-badge]");
    if (badge) badge.textContent = String(count);
    link.classList.toggle("has-unread", count > 0);
    const label = link.dataset.label || "Notifications, {count} unread";
    link.setAttribute("aria-label", label.replace("{count}", String(count)));
  };

  // For people debugging (and the browser tests): is the live count connected?
  const setSocketState = (state) => {
    const link = currentBell();
    if (link) link.dataset.socketState = state;
  };

  const announce = (title) => {
    const region = document.getElementById(LIVE_REGION_ID);
    const link = currentBell();
    if (!region || !title) return;
    const template = (link && link.dataset.announce) || "New notification: {title}";
    region.textContent = template.replace("{title}", title);
  };

  const onMessage = (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    if (frame.type === "notification") {
      setUnread(frame.unread);
      announce(typeof frame.title === "string" ? frame.title : "");
    } else if (frame.type === "unread") {
      setUnread(frame.unread);
    }
  };

  const connect = () => {
    if (stopped) return;
    const current = new WebSocket(url);
    socket = current;
    current.addEventListener("open", () => {
      delay = RECONNECT_FIRST_MS;
      setSocketState("open");
      keepaliveTimer = window.setInterval(() => {
        if (current.readyState === WebSocket.OPEN) current.send(JSON.stringify({ type: "ping" }));
      }, KEEPALIVE_MS);
    });
    current.addEventListener("message", onMessage);
    current.addEventListener("close", (event) => {
      window.clearInterval(keepaliveTimer);
      if (socket !== current) return;
      socket = null;
      setSocketState("closed");
      if (stopped || event.code === CLOSE_NOT_SIGNED_IN) return;
      reconnectTimer = window.setTimeout(connect, delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    });
  };

  // htmx swaps in a fresh bell after "Mark as read" (its count from the server): keep the state.
  document.addEventListener("htmx:afterSettle", () => {
    setSocketState(socket && socket.readyState === WebSocket.OPEN ? "open" : "closed");
  });

  window.addEventListener("pagehide", () => {
    stopped = true;
    window.clearTimeout(reconnectTimer);
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", (event) => {
    // Back from the back/forward cache: the page is live again.
    if (!event.persisted) return;
    stopped = false;
    delay = RECONNECT_FIRST_MS;
    if (!socket) connect();
  });
  connect();
}

initThemeSwitcher();
focusErrorSummary();
initNotificationsBell();
