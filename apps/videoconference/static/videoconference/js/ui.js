// DOM rendering for the call screen. The markup lives in room.html; this module fills it.
// Styles change through classes and the hidden attribute only (strict CSP).

const byId = (id) => document.getElementById(id);

export const STATE_TEXT = {
  audio: "microphone off",
  video: "camera off",
  hand: "hand raised",
  screen: "sharing screen",
};

export class Announcer {
  constructor(element) {
    this.element = element;
    this.clearTimer = 0;
  }

  /** Say something once through the polite live region. */
  say(text) {
    if (!this.element || !text) return;
    const line = document.createElement("p");
    line.textContent = text;
    this.element.append(line);
    while (this.element.childElementCount > 5) this.element.firstElementChild.remove();
    clearTimeout(this.clearTimer);
    this.clearTimer = setTimeout(() => this.element.replaceChildren(), 15000);
  }
}

export function setStatus(text) {
  const status = byId("call-status");
  if (status) status.textContent = text;
}

/** Status text with a link (e.g. "Sign in"). */
export function setStatusWithLink(text, linkText, href) {
  const status = byId("call-status");
  if (!status) return;
  const link = document.createElement("a");
  link.href = href;
  link.textContent = linkText;
  status.replaceChildren(document.createTextNode(`${text} `), link);
}

export function setPressed(button, pressed) {
  if (button) button.setAttribute("aria-pressed", pressed ? "true" : "false");
}

// --- Video tiles -----------------------------------------------------------------------------

/** The grid tile of a remote peer (by peer id) or of this person ("local"), or null. */
export function tileFor(key) {
  return byId("video-grid").querySelector(`li.tile[data-peer-id="${CSS.escape(key)}"]`);
}

export function ensureTile(key, name, { local = false } = {}) {
  const grid = byId("video-grid");
  let tile = tileFor(key);
  if (tile) return tile;
  tile = document.createElement("li");
  tile.className = local ? "tile tile-local" : "tile";
  tile.dataset.peerId = key;
  const video = document.createElement("video");
  video.autoplay = true;
  video.playsInline = true;
  video.setAttribute("playsinline", "");
  if (local) {
    video.muted = true;
    video.classList.add("mirrored");
  }
  const caption = document.createElement("div");
  caption.className = "tile-caption";
  const label = document.createElement("span");
  label.className = "tile-name";
  label.textContent = local ? `${name} (you)` : name;
  const badges = document.createElement("span");
  badges.className = "tile-badges";
  for (const [field, text] of Object.entries(STATE_TEXT)) {
    const badge = document.createElement("span");
    badge.className = `tile-badge badge-${field}`;
    badge.dataset.state = field;
    badge.textContent = text;
    badge.hidden = true;
    badges.append(badge);
  }
  const speaking = document.createElement("span");
  speaking.className = "visually-hidden tile-speaking-text";
  caption.append(label, badges, speaking);
  tile.append(video, caption);
  if (local) grid.prepend(tile);
  else grid.append(tile);
  video.setAttribute("aria-label", local ? `Your video` : `Video of ${name}`);
  return tile;
}

export function setTileStream(key, stream) {
  const tile = tileFor(key);
  if (!tile) return;
  const video = tile.querySelector("video");
  if (video.srcObject !== stream) video.srcObject = stream;
  const played = video.play();
  if (played) played.catch(() => {});
}

export function removeTile(key) {
  const tile = tileFor(key);
  if (tile) {
    const video = tile.querySelector("video");
    if (video) video.srcObject = null;
    tile.remove();
  }
}

export function clearRemoteTiles() {
  for (const tile of byId("video-grid").querySelectorAll("li.tile:not(.tile-local)")) {
    removeTile(tile.dataset.peerId);
  }
}

/**
 * Show a peer's state on its tile. `state` has audio/video (true = on) and hand/screen (true = on).
 */
export function renderTileState(key, state) {
  const tile = tileFor(key);
  if (!tile) return;
  const show = {
    audio: state.audio === false,
    video: state.video === false,
    hand: Boolean(state.hand),
    screen: Boolean(state.screen),
  };
  for (const badge of tile.querySelectorAll(".tile-badge")) badge.hidden = !show[badge.dataset.state];
  tile.classList.toggle("camera-off", show.video && !show.screen);
  tile.classList.toggle("hand-raised", show.hand);
  tile.classList.toggle("screen-sharing", show.screen);
}

export function setSpeaking(key, speaking) {
  const tile = tileFor(key);
  if (!tile) return;
  tile.classList.toggle("speaking", speaking);
  const text = tile.querySelector(".tile-speaking-text");
  if (text) text.textContent = speaking ? "speaking" : "";
}

// --- Participants ----------------------------------------------------------------------------

export function stateText(state) {
  const parts = [];
  parts.push(state.audio === false ? "microphone off" : "microphone on");
  parts.push(state.video === false ? "camera off" : "camera on");
  if (state.screen) parts.push("sharing screen");
  if (state.hand) parts.push("hand raised");
  return parts.join(", ");
}

function actionButton(action, peerId, text, label, extraClass = "") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = `call-button small ${extraClass}`.trim();
  button.dataset.action = action;
  button.dataset.peerId = peerId;
  button.textContent = text;
  button.setAttribute("aria-label", label);
  return button;
}

/**
 * @param {{key: string, name: string, role: string, state: object, local: boolean}[]} people
 * @param {boolean} isHost
 */
export function renderParticipants(people, isHost) {
  const list = byId("participant-list");
  const items = people.map((person) => {
    const item = document.createElement("li");
    item.dataset.peerId = person.key;
    const who = document.createElement("span");
    who.className = "participant-name";
    who.textContent = person.local ? `${person.name} (you)` : person.name;
    if (person.role === "host") who.textContent += " · host";
    const state = document.createElement("span");
    state.className = "participant-state";
    state.textContent = stateText(person.state);
    item.append(who, state);
    if (isHost && !person.local) {
      const actions = document.createElement("span");
      actions.className = "participant-actions";
      if (person.state.audio !== false) {
        actions.append(actionButton("mute", person.key, "Mute", `Mute ${person.name}`, "secondary"));
      }
      if (person.role !== "host") {
        actions.append(actionButton("remove", person.key, "Remove", `Remove ${person.name} from the call`, "danger"));
      }
      item.append(actions);
    }
    return item;
  });
  list.replaceChildren(...items);
  const count = document.querySelector("[data-participant-count]");
  if (count) count.textContent = `(${people.length})`;
}

export function renderLobby(waiting) {
  const box = document.querySelector("[data-lobby]");
  const list = byId("lobby-list");
  if (!box || !list) return;
  box.hidden = waiting.length === 0;
  list.replaceChildren(
    ...waiting.map((peer) => {
      const item = document.createElement("li");
      item.dataset.peerId = peer.peer_id;
      const who = document.createElement("span");
      who.className = "participant-name";
      who.textContent = peer.user.name;
      const actions = document.createElement("span");
      actions.className = "participant-actions";
      actions.append(
        actionButton("admit", peer.peer_id, "Admit", `Let ${peer.user.name} in`),
        actionButton("deny", peer.peer_id, "Deny", `Turn ${peer.user.name} away`, "danger"),
      );
      item.append(who, actions);
      return item;
    }),
  );
}

// --- Chat ------------------------------------------------------------------------------------

export function appendChat(frame, { mine }) {
  const log = byId("chat-log");
  const item = document.createElement("li");
  item.dataset.from = frame.from || "";
  if (mine) item.classList.add("chat-mine");
  const head = document.createElement("p");
  head.className = "chat-meta";
  const name = document.createElement("span");
  name.className = "chat-name";
  name.textContent = mine ? `${frame.user.name} (you)` : frame.user.name;
  const time = document.createElement("time");
  const sent = new Date(frame.sent_at);
  if (!Number.isNaN(sent.getTime())) {
    time.dateTime = frame.sent_at;
    time.textContent = sent.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
  head.append(name, document.createTextNode(" "), time);
  const text = document.createElement("p");
  text.className = "chat-text";
  text.textContent = frame.text;
  item.append(head, text);
  log.append(item);
  while (log.childElementCount > 300) log.firstElementChild.remove();
  log.scrollTop = log.scrollHeight;
}
