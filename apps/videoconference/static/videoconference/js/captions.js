// Live captions: a caption area for everyone, typed captions (hosts) and automatic captions of
// the speaker's own microphone where the browser offers speech recognition. Captions travel as
// `caption` frames; partial ones update the display, final ones are also announced.

const PARTIAL_INTERVAL_MS = 400;
const MAX_LINES = 4;

export function speechRecognitionClass() {
  return window.SpeechRecognition || window.webkitSpeechRecognition || null;
}

export class Captions {
  /**
   * @param {{send: (frame: object) => boolean, announce: (text: string) => void,
   *          nameOf: (peerId: string) => string, selfId: () => string,
   *          onAutoStopped: (message: string) => void}} options
   */
  constructor(options) {
    this.options = options;
    this.display = document.getElementById("caption-display");
    this.form = document.getElementById("caption-form");
    this.input = document.getElementById("caption-input");
    this.autoButton = document.getElementById("btn-auto-captions");
    this.lines = []; // {from, name, text, final}
    this.lastPartialAt = 0;
    this.partialTimer = 0;
    this.recognition = null;
    this.autoOn = false;

    if (this.form) {
      this.form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = this.input.value.trim();
        if (!text) return;
        if (this.send(text, true)) this.input.value = "";
      });
      this.input.addEventListener("input", () => this.typedPartial());
    }
    if (this.autoButton) {
      this.autoButton.hidden = !speechRecognitionClass();
      this.autoButton.addEventListener("click", () => (this.autoOn ? this.stopAuto() : this.startAuto()));
    }
  }

  setCanType(allowed) {
    if (this.form) this.form.hidden = !allowed;
  }

  send(text, final) {
    const trimmed = text.trim().slice(0, 500);
    if (!trimmed) return false;
    return this.options.send({ type: "caption", text: trimmed, final });
  }

  typedPartial() {
    clearTimeout(this.partialTimer);
    const wait = Math.max(0, this.lastPartialAt + PARTIAL_INTERVAL_MS - Date.now());
    this.partialTimer = setTimeout(() => {
      this.lastPartialAt = Date.now();
      if (this.input.value.trim()) this.send(this.input.value, false);
    }, wait);
  }

  /** A `caption` frame from the server (our own included). */
  receive(frame) {
    const name = this.options.nameOf(frame.from);
    const current = this.lines.find((line) => line.from === frame.from && !line.final);
    if (current) {
      current.text = frame.text;
      current.final = Boolean(frame.final);
    } else {
      this.lines.push({ from: frame.from, name, text: frame.text, final: Boolean(frame.final) });
    }
    while (this.lines.length > MAX_LINES) this.lines.shift();
    this.render();
    if (frame.final && frame.from !== this.options.selfId()) {
      this.options.announce(`${name} said: ${frame.text}`);
    }
  }

  render() {
    if (!this.display) return;
    this.display.replaceChildren(
      ...this.lines.map((line) => {
        const p = document.createElement("p");
        p.className = line.final ? "caption-line" : "caption-line caption-partial";
        const who = document.createElement("span");
        who.className = "caption-name";
        who.textContent = `${line.name}: `;
        p.append(who, document.createTextNode(line.text));
        return p;
      }),
    );
  }

  startAuto() {
    const Recognition = speechRecognitionClass();
    if (!Recognition) return;
    const recognition = new Recognition();
    recognition.continuous = true;
    recognition.interimResults = true;
    recognition.lang = document.documentElement.lang || "en";
    recognition.addEventListener("result", (event) => {
      for (let i = event.resultIndex; i < event.results.length; i += 1) {
        const result = event.results[i];
        const text = result[0].transcript;
        if (result.isFinal) {
          this.send(text, true);
        } else if (Date.now() - this.lastPartialAt >= PARTIAL_INTERVAL_MS) {
          this.lastPartialAt = Date.now();
          this.send(text, false);
        }
      }
    });
    recognition.addEventListener("error", (event) => {
      if (event.error === "not-allowed" || event.error === "service-not-allowed") {
        this.stopAuto();
        this.options.onAutoStopped("Automatic captions are not available: speech recognition was refused.");
      }
    });
    recognition.addEventListener("end", () => {
      // Recognition stops by itself after a pause; keep going while the user wants captions.
      if (this.autoOn && this.recognition === recognition) {
        try {
          recognition.start();
        } catch {
          this.stopAuto();
        }
      }
    });
    this.recognition = recognition;
    this.autoOn = true;
    this.autoButton.setAttribute("aria-pressed", "true");
    try {
      recognition.start();
    } catch {
      this.stopAuto();
    }
  }

  stopAuto() {
    this.autoOn = false;
    if (this.autoButton) this.autoButton.setAttribute("aria-pressed", "false");
    const recognition = this.recognition;
    this.recognition = null;
    if (recognition) {
      try {
        recognition.abort();
      } catch {
        // already stopped
      }
    }
  }
}
