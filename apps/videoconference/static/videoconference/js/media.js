// Local media: camera and microphone, device lists, screen share, and a cheap speaking detector
// (one AudioContext, one AnalyserNode per stream, polled a few times a second).

/** Ask for camera and/or microphone. Throws the browser's DOMException on refusal. */
export async function getLocalMedia({ audio = true, video = true, audioDeviceId = "", videoDeviceId = "" } = {}) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const error = new Error("Media devices are not available");
    error.name = "NotSupportedError";
    throw error;
  }
  const constraints = {
    audio: audio ? (audioDeviceId ? { deviceId: { exact: audioDeviceId } } : true) : false,
    video: video
      ? {
          ...(videoDeviceId ? { deviceId: { exact: videoDeviceId } } : {}),
          width: { ideal: 640 },
          height: { ideal: 360 },
        }
      : false,
  };
  return navigator.mediaDevices.getUserMedia(constraints);
}

/** Fill a <select> with the devices of one kind, keeping the current choice when it still exists. */
export async function fillDeviceSelect(select, kind, currentId) {
  if (!select || !navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return 0;
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === kind);
  select.replaceChildren();
  devices.forEach((device, index) => {
    const option = document.createElement("option");
    option.value = device.deviceId;
    const fallback = kind === "audioinput" ? `Microphone ${index + 1}` : `Camera ${index + 1}`;
    option.textContent = device.label || fallback;
    if (device.deviceId === currentId) option.selected = true;
    select.append(option);
  });
  select.disabled = devices.length === 0;
  return devices.length;
}

export function stopStream(stream) {
  if (!stream) return;
  for (const track of stream.getTracks()) track.stop();
}

export function canShareScreen() {
  return Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
}

export async function getScreen() {
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  return stream.getVideoTracks()[0];
}

const SPEAKING_LEVEL = 0.04; // RMS of the waveform, 0..1
const POLL_MS = 200;

export class SpeakingDetector {
  constructor(onChange) {
    this.onChange = onChange;
    this.context = null;
    this.entries = new Map();
    this.timer = 0;
  }

  /** Call from a user gesture (Join) so the AudioContext may start. */
  start() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!this.context) this.context = new Context();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
    if (!this.timer) this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  watch(key, stream) {
    this.unwatch(key);
    if (!this.context || !stream || stream.getAudioTracks().length === 0) return;
    try {
      const source = this.context.createMediaStreamSource(stream);
      const analyser = this.context.createAnalyser();
      analyser.fftSize = 512;
      source.connect(analyser);
      this.entries.set(key, { source, analyser, data: new Uint8Array(analyser.fftSize), speaking: false });
    } catch {
      // A stream without a live audio track: nothing to measure.
    }
  }

  unwatch(key) {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.source.disconnect();
    this.entries.delete(key);
    if (entry.speaking) this.onChange(key, false);
  }

  poll() {
    for (const [key, entry] of this.entries) {
      entry.analyser.getByteTimeDomainData(entry.data);
      let sum = 0;
      for (const value of entry.data) {
        const sample = (value - 128) / 128;
        sum += sample * sample;
      }
      const speaking = Math.sqrt(sum / entry.data.length) > SPEAKING_LEVEL;
      if (speaking !== entry.speaking) {
        entry.speaking = speaking;
        this.onChange(key, speaking);
      }
    }
  }

  stop() {
    for (const key of [...this.entries.keys()]) this.unwatch(key);
    clearInterval(this.timer);
    this.timer = 0;
    if (this.context) this.context.close().catch(() => {});
    this.context = null;
  }
}
