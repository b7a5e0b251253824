// The signaling socket (protocol: docs/signaling.md). Answers heartbeat pings, reconnects with
// backoff after unexpected closes and reports final closes to its owner.

// Close codes after which reconnecting cannot help (docs/signaling.md, "Connecting").
export const FINAL_CLOSE_CODES = new Set([4401, 4403, 4404, 4409, 4429]);
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
// The server pings every few seconds; silence this long means the network is gone.
const SILENCE_LIMIT_MS = 15000;

export class Signaling {
  /**
   * @param {string} url ws:// or wss:// address of the session's socket
   * @param {{onMessage: (frame: object) => void, onOpen?: () => void,
   *          onReconnecting?: (delayMs: number) => void,
   *          onClosed?: (info: {code: number, reason: string}) => void}} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.socket = null;
    this.attempt = 0;
    this.stopped = false;
    this.retryTimer = 0;
    this.silenceTimer = 0;
  }

  connect() {
    this.stopped = false;
    clearTimeout(this.retryTimer);
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (socket !== this.socket) return;
      this.watchSilence();
      if (this.handlers.onOpen) this.handlers.onOpen();
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      this.watchSilence();
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame.type !== "string") return;
      if (frame.type === "ping") {
        this.send({ type: "pong" });
        return;
      }
      // Any frame after welcome or lobby means the connection works: reset the backoff.
      if (frame.type === "welcome" || frame.type === "lobby") this.attempt = 0;
      this.handlers.onMessage(frame);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      clearTimeout(this.silenceTimer);
      if (this.stopped) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.stopped = true;
        if (this.handlers.onClosed) this.handlers.onClosed({ code: event.code, reason: event.reason });
        return;
      }
      this.scheduleReconnect();
    });
    // Errors are always followed by a close event, which decides what happens next.
    socket.addEventListener("error", () => {});
  }

  scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    if (this.handlers.onReconnecting) this.handlers.onReconnecting(delay);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }

  watchSilence() {
    clearTimeout(this.silenceTimer);
    this.silenceTimer = setTimeout(() => this.drop(), SILENCE_LIMIT_MS);
  }

  /** Send one frame; returns false when the socket is not open. */
  send(frame) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  get isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  /** Treat the current socket as broken (network failure): forget it and reconnect. */
  drop() {
    const socket = this.socket;
    if (!socket || this.stopped) return;
    this.socket = null;
    clearTimeout(this.silenceTimer);
    try {
      socket.close(4000, "dropped");
    } catch {
      // already closing
    }
    this.scheduleReconnect();
  }

  /** Close for good (leave, page hide). */
  close() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.silenceTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, "leave");
  }
}
