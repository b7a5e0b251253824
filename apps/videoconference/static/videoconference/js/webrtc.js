// The call screen of a live session page (room.html): pre-join preview, the call itself, chat,
// participants, host controls, captions and keyboard shortcuts. User guide: docs/call-screen.md;
// protocol: docs/signaling.md. Test and diagnostics hook: window.onlineteacherCall.

import { Captions } from "./captions.js";
import { canShareScreen, fillDeviceSelect, getLocalMedia, getScreen, SpeakingDetector, stopStream } from "./media.js";
import { PeerLink } from "./peers.js";
import { Signaling } from "./signaling.js";
import * as ui from "./ui.js";

const STATUS_POLL_MS = 5000;
const $ = (id) => document.getElementById(id);

class CallController {
  constructor(root) {
    this.root = root;
    this.state = "prejoin";
    this.peerId = "";
    this.role = root.dataset.role || "participant";
    this.sessionStatus = root.dataset.status || "live";
    this.needsAdmission = root.dataset.needsAdmission === "true";
    this.user = { id: 0, name: "You" };
    this.iceServers = [];
    this.signaling = null;
    this.links = new Map(); // peer_id -> PeerLink
    this.people = new Map(); // peer_id -> PEER (remote, admitted)
    this.lobby = new Map(); // peer_id -> PEER (hosts only)
    this.local = { audio: true, video: true, screen: false, hand: false };
    this.stream = null; // camera + microphone (MediaStream)
    this.outStream = new MediaStream(); // what peers receive (stream id for their tiles)
    this.screenTrack = null;
    this.wantJoin = false;
    this.mediaMode = "full"; // "full", "audio", "none"
    this.pollTimer = 0;
    this.errorMessage = "";
    this.endedByServer = false;
    this.announcer = new ui.Announcer($("call-announcer"));
    this.speaking = new SpeakingDetector((key, on) => ui.setSpeaking(key, on));
    this.captions = new Captions({
      send: (frame) => this.send(frame),
      announce: (text) => this.announcer.say(text),
      nameOf: (peerId) => this.nameOf(peerId),
      selfId: () => this.peerId,
      onAutoStopped: (message) => ui.setStatus(message),
    });
  }

  get peers() {
    return this.links.size;
  }

  // --- Pre-join ------------------------------------------------------------------------------

  start() {
    this.root.querySelector("[data-call-ui]").hidden = false;
    this.bindControls();
    if (this.sessionStatus === "ended" || this.sessionStatus === "cancelled") {
      this.finish("ended", this.sessionStatus === "ended" ? "This session has ended." : "This session was cancelled.");
      return;
    }
    if (this.sessionStatus === "scheduled") this.pollStatus();
    this.startPreview();
  }

  async startPreview() {
    const cameraSelect = $("camera-select");
    const micSelect = $("mic-select");
    stopStream(this.stream);
    this.stream = null;
    try {
      this.stream = await getLocalMedia({
        audio: true,
        video: true,
        audioDeviceId: micSelect.value,
        videoDeviceId: cameraSelect.value,
      });
      this.mediaMode = "full";
      this.showMediaProblem(null);
    } catch (error) {
      await this.previewFallback(error);
    }
    $("preview").srcObject = this.stream && this.stream.getVideoTracks().length ? this.stream : null;
    document.querySelector("[data-preview-note]").hidden = Boolean(this.stream && this.stream.getVideoTracks().length);
    await this.refreshDeviceLists();
  }

  async previewFallback(error) {
    const name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      this.mediaMode = "none";
      this.showMediaProblem(
        "Your browser blocked the camera and microphone. Allow them for this site (the camera icon in the address bar) and reload, or join with audio only or to listen only.",
        { audioOnly: true, listenOnly: true },
      );
      return;
    }
    // No camera, or the camera is busy: try the microphone alone.
    try {
      this.stream = await getLocalMedia({ audio: true, video: false, audioDeviceId: $("mic-select").value });
      this.mediaMode = "audio";
      this.showMediaProblem(
        name === "NotReadableError"
          ? "Your camera is in use by another program. Close it and reload, or join with audio only."
          : "No camera was found. You can join with your microphone only.",
        { audioOnly: true, listenOnly: true },
      );
    } catch (audioError) {
      this.mediaMode = "none";
      const denied = audioError && audioError.name === "NotAllowedError";
      this.showMediaProblem(
        denied
          ? "Your browser blocked the microphone. Allow it for this site and reload, or join to listen only."
          : "No camera or microphone was found. Connect one and reload, or join to listen and watch only.",
        { audioOnly: false, listenOnly: true },
      );
    }
  }

  showMediaProblem(message, buttons = { audioOnly: false, listenOnly: false }) {
    $("join-audio-only").hidden = !buttons.audioOnly;
    $("join-listen-only").hidden = !buttons.listenOnly;
    const help = document.querySelector("[data-call-help]");
    help.hidden = !message;
    help.textContent = message || "";
    if (message) ui.setStatus(message);
  }

  async refreshDeviceLists() {
    const currentVideo = this.stream && this.stream.getVideoTracks()[0];
    const currentAudio = this.stream && this.stream.getAudioTracks()[0];
    await fillDeviceSelect($("camera-select"), "videoinput", currentVideo && currentVideo.getSettings().deviceId);
    await fillDeviceSelect($("mic-select"), "audioinput", currentAudio && currentAudio.getSettings().deviceId);
  }

  async pollStatus() {
    clearTimeout(this.pollTimer);
    if (this.state !== "prejoin" && this.state !== "connecting") return;
    try {
      const response = await fetch(this.root.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.redirected || response.status === 401) {
        this.finish("refused", "You are signed out.", { signIn: true });
        return;
      }
      if (response.status === 403 || response.status === 404) {
        this.finish("refused", "You are not allowed to join this session.");
        return;
      }
      if (response.ok) {
        const body = await response.json();
        if (body.status !== this.sessionStatus) this.sessionStatusChanged(body.status);
      }
    } catch {
      // Offline for a moment: try again at the next tick.
    }
    if (this.sessionStatus === "scheduled") this.pollTimer = setTimeout(() => this.pollStatus(), STATUS_POLL_MS);
  }

  sessionStatusChanged(status) {
    this.sessionStatus = status;
    this.root.dataset.status = status;
    if (status === "live") {
      ui.setStatus(this.wantJoin ? "The session has started. Joining…" : "The session has started. You can join now.");
      this.announcer.say("The session has started.");
      if (this.wantJoin && this.state === "prejoin") this.connect();
    } else if (status === "ended" || status === "cancelled") {
      this.finish("ended", status === "ended" ? "This session has ended." : "This session was cancelled.");
    }
  }

  async join(mode) {
    this.speaking.start();
    if (mode === "audio") {
      if (this.mediaMode === "full" && this.stream) {
        for (const track of this.stream.getVideoTracks()) {
          track.stop();
          this.stream.removeTrack(track);
        }
      } else if (!this.stream || this.stream.getAudioTracks().length === 0) {
        try {
          this.stream = await getLocalMedia({ audio: true, video: false, audioDeviceId: $("mic-select").value });
        } catch {
          this.showMediaProblem("The microphone is not available. You can join to listen only.", { listenOnly: true });
          return;
        }
      }
      this.mediaMode = "audio";
    } else if (mode === "none") {
      stopStream(this.stream);
      this.stream = null;
      this.mediaMode = "none";
    } else if (!this.stream) {
      await this.startPreview();
    }
    this.wantJoin = true;
    this.local.audio = Boolean(this.stream && this.stream.getAudioTracks().length);
    this.local.video = Boolean(this.stream && this.stream.getVideoTracks().length);
    if (this.sessionStatus === "scheduled") {
      ui.setStatus(
        this.role === "host"
          ? "This session has not started yet. Start it with the Start session button below; you will join automatically."
          : "This session has not started yet. Please wait: you will join automatically when the host starts it.",
      );
      for (const id of ["join-button", "join-audio-only", "join-listen-only"]) $(id).disabled = true;
      this.pollStatus();
      return;
    }
    this.connect();
  }

  // --- Connection ----------------------------------------------------------------------------

  socketUrl() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${this.root.dataset.wsPath}`;
  }

  connect() {
    this.setState("connecting");
    ui.setStatus("Connecting…");
    for (const id of ["join-button", "join-audio-only", "join-listen-only"]) $(id).disabled = true;
    this.endedByServer = false;
    this.errorMessage = "";
    this.signaling = new Signaling(this.socketUrl(), {
      onMessage: (frame) => this.onFrame(frame),
      onReconnecting: () => this.onReconnecting(),
      onClosed: (info) => this.onFinalClose(info),
    });
    this.signaling.connect();
  }

  send(frame) {
    return Boolean(this.signaling) && this.signaling.send(frame);
  }

  onReconnecting() {
    if (this.state === "in-call" || this.state === "reconnecting") {
      this.setState("reconnecting");
      ui.setStatus("The connection was lost. Reconnecting…");
      this.closeLinks();
    } else if (this.state === "connecting" || this.state === "lobby") {
      ui.setStatus("Could not reach the server. Trying again…");
    }
  }

  onFinalClose({ code }) {
    this.signaling = null;
    if (code === 4409) {
      if (this.endedByServer || this.state === "in-call" || this.state === "reconnecting") {
        this.finish("ended", "The session has ended.");
      } else {
        // Not live any more (or not yet): look at the status to say which.
        this.teardownCall();
        this.setState("prejoin");
        this.showPrejoin();
        this.sessionStatus = "unknown";
        this.pollStatus().then(() => {
          if (this.sessionStatus === "scheduled") {
            this.wantJoin = true;
            ui.setStatus("This session has not started yet. You will join automatically when the host starts it.");
          }
        });
      }
    } else if (code === 4401) {
      this.finish("refused", "You are signed out.", { signIn: true });
    } else if (code === 4403) {
      this.finish("refused", this.errorMessage || "You are not allowed to join this session.");
    } else if (code === 4404) {
      this.finish("refused", "There is no session at this address.");
    } else if (code === 4429) {
      this.finish("refused", "The connection was closed because too many messages were sent. Reload the page to join again.");
    }
  }

  onFrame(frame) {
    switch (frame.type) {
      case "lobby":
        this.setState("lobby");
        ui.setStatus("Waiting for a host to let you in.");
        break;
      case "welcome":
        this.onWelcome(frame);
        break;
      case "peer-joined":
        this.addPerson(frame.peer, { announce: true });
        // Existing peers offer to a newcomer.
        this.createLink(frame.peer.peer_id, true);
        this.renderPeople();
        break;
      case "peer-left":
        this.removePerson(frame.peer_id, { announce: true });
        break;
      case "peer-state":
        this.onPeerState(frame);
        break;
      case "offer":
      case "answer":
      case "ice": {
        let link = this.links.get(frame.from);
        if (!link && frame.type === "offer" && this.people.has(frame.from)) link = this.createLink(frame.from, false);
        if (link) link.handle(frame);
        break;
      }
      case "chat":
        this.onChat(frame, { history: false });
        break;
      case "caption":
        this.captions.receive(frame);
        break;
      case "muted-by-host":
        this.setMic(false, { send: false });
        this.announcer.say("A host muted your microphone.");
        ui.setStatus("A host muted your microphone. Press Microphone (Alt+M) to speak again.");
        break;
      case "removed":
        this.errorMessage = "A host removed you from this session.";
        break;
      case "session-ended":
        this.endedByServer = true;
        break;
      case "lobby-waiting":
        this.lobby.set(frame.peer.peer_id, frame.peer);
        ui.renderLobby([...this.lobby.values()]);
        this.announcer.say(`${frame.peer.user.name} is waiting to join. Open Participants to let them in.`);
        break;
      case "lobby-left":
        this.lobby.delete(frame.peer_id);
        ui.renderLobby([...this.lobby.values()]);
        break;
      case "error":
        if (frame.code === "not_allowed") this.errorMessage = frame.message;
        else if (frame.code !== "no_such_peer") console.warn("signaling error", frame.code);
        break;
      default:
        break; // frames this client does not know are ignored
    }
  }

  onWelcome(frame) {
    const rejoin = this.state === "reconnecting";
    this.closeLinks();
    this.people.clear();
    this.peerId = frame.peer_id;
    this.role = frame.role;
    this.user = frame.user;
    this.iceServers = frame.ice_servers || [];
    this.setState("in-call");
    this.showCallScreen();
    ui.setStatus(rejoin ? "Reconnected." : `You are in the call: ${frame.session.title}.`);
    if (rejoin) this.announcer.say("Reconnected to the call.");
    // The server starts everyone with the state it knows; tell it ours.
    this.send({ type: "state", audio: this.local.audio, video: this.local.video, screen: this.local.screen, hand: this.local.hand });
    for (const peer of frame.peers || []) {
      this.addPerson(peer, { announce: false });
      this.createLink(peer.peer_id, false);
    }
    $("chat-log").replaceChildren();
    for (const message of frame.chat || []) this.onChat(message, { history: true });
    this.lobby.clear();
    for (const peer of frame.lobby || []) this.lobby.set(peer.peer_id, peer);
    ui.renderLobby([...this.lobby.values()]);
    const isHost = this.role === "host";
    $("btn-end").hidden = !isHost;
    this.captions.setCanType(isHost);
    this.renderPeople();
  }

  createLink(peerId, initiator) {
    const existing = this.links.get(peerId);
    if (existing) existing.close();
    const link = new PeerLink({
      selfId: this.peerId,
      peerId,
      iceServers: this.iceServers,
      initiator,
      send: (frame) => this.send(frame),
      getTracks: () => this.outgoingTracks(),
      onStream: (stream) => {
        ui.setTileStream(peerId, stream);
        this.speaking.watch(peerId, stream);
      },
      onConnectionState: (state) => {
        const tile = ui.tileFor(peerId);
        if (tile) tile.classList.toggle("connection-problem", state === "failed" || state === "disconnected");
      },
    });
    this.links.set(peerId, link);
    return link;
  }

  outgoingTracks() {
    const audio = this.stream ? this.stream.getAudioTracks()[0] || null : null;
    const camera = this.stream ? this.stream.getVideoTracks()[0] || null : null;
    return { audio, video: this.screenTrack || camera, stream: this.outStream };
  }

  closeLinks() {
    for (const [peerId, link] of this.links) {
      link.close();
      this.speaking.unwatch(peerId);
    }
    this.links.clear();
    ui.clearRemoteTiles();
  }

  // --- People --------------------------------------------------------------------------------

  addPerson(peer, { announce }) {
    this.people.set(peer.peer_id, peer);
    ui.ensureTile(peer.peer_id, peer.user.name);
    ui.renderTileState(peer.peer_id, peer);
    if (announce) this.announcer.say(`${peer.user.name} joined.`);
  }

  removePerson(peerId, { announce }) {
    const peer = this.people.get(peerId);
    const link = this.links.get(peerId);
    if (link) link.close();
    this.links.delete(peerId);
    this.speaking.unwatch(peerId);
    this.people.delete(peerId);
    ui.removeTile(peerId);
    if (peer && announce) this.announcer.say(`${peer.user.name} left.`);
    this.renderPeople();
  }

  onPeerState(frame) {
    const changes = {};
    for (const field of ["audio", "video", "screen", "hand"]) {
      if (typeof frame[field] === "boolean") changes[field] = frame[field];
    }
    if (frame.peer_id === this.peerId) {
      Object.assign(this.local, changes);
      ui.renderTileState("local", this.local);
      this.renderPeople();
      return;
    }
    const peer = this.people.get(frame.peer_id);
    if (!peer) return;
    const wasHand = peer.hand;
    Object.assign(peer, changes);
    ui.renderTileState(frame.peer_id, peer);
    if (changes.hand === true && !wasHand) this.announcer.say(`${peer.user.name} raised their hand.`);
    if (changes.screen === true) this.announcer.say(`${peer.user.name} is sharing their screen.`);
    this.renderPeople();
  }

  renderPeople() {
    const people = [
      { key: "local", name: this.user.name, role: this.role, state: this.local, local: true },
      ...[...this.people.values()].map((peer) => ({
        key: peer.peer_id,
        name: peer.user.name,
        role: peer.role,
        state: peer,
        local: false,
      })),
    ];
    ui.renderParticipants(people, this.role === "host");
  }

  nameOf(peerId) {
    if (peerId === this.peerId) return this.user.name;
    const peer = this.people.get(peerId);
    return peer ? peer.user.name : "Someone";
  }

  onChat(frame, { history }) {
    const mine = history ? frame.user.id === this.user.id : frame.from === this.peerId;
    ui.appendChat(frame, { mine });
    if (!history && !mine) this.announcer.say(`New message from ${frame.user.name}: ${frame.text}`);
  }

  // --- Screens -------------------------------------------------------------------------------

  setState(state) {
    this.state = state;
    this.root.dataset.callState = state;
  }

  showPrejoin() {
    $("prejoin").hidden = false;
    $("call-screen").hidden = true;
    for (const id of ["join-button", "join-audio-only", "join-listen-only"]) $(id).disabled = false;
  }

  showCallScreen() {
    $("prejoin").hidden = true;
    $("call-screen").hidden = false;
    $("preview").srcObject = null;
    const tile = ui.ensureTile("local", this.user.name, { local: true });
    tile.querySelector(".tile-name").textContent = `${this.user.name} (you)`;
    this.showLocalVideo();
    ui.renderTileState("local", this.local);
    this.speaking.watch("local", this.stream);
    ui.setPressed($("btn-mic"), this.local.audio);
    ui.setPressed($("btn-camera"), this.local.video);
    ui.setPressed($("btn-screen"), this.local.screen);
    ui.setPressed($("btn-hand"), this.local.hand);
    $("btn-mic").disabled = !(this.stream && this.stream.getAudioTracks().length);
    $("btn-camera").disabled = !(this.stream && this.stream.getVideoTracks().length);
    $("btn-screen").hidden = !canShareScreen();
  }

  showLocalVideo() {
    const preview = new MediaStream();
    const video = this.screenTrack || (this.stream && this.stream.getVideoTracks()[0]);
    if (video) preview.addTrack(video);
    ui.setTileStream("local", preview);
    const localVideo = ui.tileFor("local")?.querySelector("video");
    if (localVideo) localVideo.classList.toggle("mirrored", !this.screenTrack);
  }

  /** Stop the call: close the socket and connections, stop local media. */
  teardownCall() {
    clearTimeout(this.pollTimer);
    if (this.signaling) this.signaling.close();
    this.signaling = null;
    this.captions.stopAuto();
    this.closeLinks();
    this.people.clear();
    this.stopScreenTrack();
    stopStream(this.stream);
    this.stream = null;
    this.speaking.stop();
    ui.removeTile("local");
  }

  finish(state, message, { signIn = false } = {}) {
    const wasInCall = this.state === "in-call" || this.state === "reconnecting";
    this.teardownCall();
    this.wantJoin = false;
    this.setState(state);
    $("prejoin").hidden = true;
    $("call-screen").hidden = true;
    $("preview").srcObject = null;
    if (signIn) {
      const next = encodeURIComponent(window.location.pathname);
      ui.setStatusWithLink(message, "Sign in to join.", `/accounts/login/?next=${next}`);
    } else {
      ui.setStatus(message);
    }
    if (wasInCall || state === "ended") this.announcer.say(message);
  }

  leave() {
    this.teardownCall();
    this.wantJoin = false;
    this.setState("prejoin");
    this.showPrejoin();
    ui.setStatus("You left the call. You can join again at any time.");
    this.announcer.say("You left the call.");
    $("join-button").focus();
    this.startPreview();
  }

  // --- Controls ------------------------------------------------------------------------------

  setMic(on, { send = true } = {}) {
    const track = this.stream && this.stream.getAudioTracks()[0];
    if (!track) return;
    track.enabled = on;
    this.local.audio = on;
    ui.setPressed($("btn-mic"), on);
    ui.renderTileState("local", this.local);
    this.renderPeople();
    if (send) this.send({ type: "state", audio: on });
  }

  setCamera(on) {
    const track = this.stream && this.stream.getVideoTracks()[0];
    if (!track) return;
    track.enabled = on;
    this.local.video = on;
    ui.setPressed($("btn-camera"), on);
    ui.renderTileState("local", this.local);
    this.renderPeople();
    this.send({ type: "state", video: on });
  }

  async toggleScreen() {
    if (this.screenTrack) {
      this.stopScreenShare();
      return;
    }
    let track;
    try {
      track = await getScreen();
    } catch (error) {
      if (error && error.name !== "NotAllowedError" && error.name !== "AbortError") {
        ui.setStatus("Your screen could not be shared.");
      }
      return;
    }
    if (this.state !== "in-call" && this.state !== "reconnecting") {
      track.stop();
      return;
    }
    this.screenTrack = track;
    track.addEventListener("ended", () => {
      if (this.screenTrack === track) this.stopScreenShare();
    });
    for (const link of this.links.values()) link.replaceTrack("video", track);
    this.showLocalVideo();
    this.local.screen = true;
    ui.setPressed($("btn-screen"), true);
    ui.renderTileState("local", this.local);
    this.renderPeople();
    this.send({ type: "state", screen: true });
  }

  stopScreenTrack() {
    if (this.screenTrack) this.screenTrack.stop();
    this.screenTrack = null;
  }

  stopScreenShare() {
    this.stopScreenTrack();
    const camera = this.stream && this.stream.getVideoTracks()[0];
    for (const link of this.links.values()) link.replaceTrack("video", camera || null);
    this.showLocalVideo();
    this.local.screen = false;
    ui.setPressed($("btn-screen"), false);
    ui.renderTileState("local", this.local);
    this.renderPeople();
    this.send({ type: "state", screen: false });
  }

  toggleHand() {
    this.local.hand = !this.local.hand;
    ui.setPressed($("btn-hand"), this.local.hand);
    ui.renderTileState("local", this.local);
    this.renderPeople();
    this.send({ type: "state", hand: this.local.hand });
  }

  togglePanel(buttonId, panelId, focusId) {
    const button = $(buttonId);
    const panel = $(panelId);
    const open = panel.hidden;
    panel.hidden = !open;
    ui.setPressed(button, open);
    if (open && focusId) $(focusId).focus();
    else if (!open && panel.contains(document.activeElement)) button.focus();
  }

  openDialog(dialog, opener) {
    if (dialog.open) return;
    dialog.returnFocusTo = opener || document.activeElement;
    dialog.showModal();
  }

  bindControls() {
    for (const dialog of document.querySelectorAll(".call-dialog")) {
      dialog.addEventListener("close", () => {
        const target = dialog.returnFocusTo;
        dialog.returnFocusTo = null;
        if (target && document.contains(target) && !target.closest("[hidden]")) target.focus();
      });
    }
    $("join-button").addEventListener("click", () => this.join(this.mediaMode === "audio" ? "audio" : this.mediaMode === "none" ? "none" : "full"));
    $("join-audio-only").addEventListener("click", () => this.join("audio"));
    $("join-listen-only").addEventListener("click", () => this.join("none"));
    $("camera-select").addEventListener("change", () => this.startPreview());
    $("mic-select").addEventListener("change", () => this.startPreview());

    $("btn-mic").addEventListener("click", () => this.setMic(!this.local.audio));
    $("btn-camera").addEventListener("click", () => this.setCamera(!this.local.video));
    $("btn-screen").addEventListener("click", () => this.toggleScreen());
    $("btn-hand").addEventListener("click", () => this.toggleHand());
    $("btn-chat").addEventListener("click", () => this.togglePanel("btn-chat", "chat-panel", "chat-input"));
    $("btn-captions").addEventListener("click", () => this.togglePanel("btn-captions", "captions-panel", null));
    $("btn-participants").addEventListener("click", () => this.togglePanel("btn-participants", "participants-panel", null));
    $("btn-shortcuts").addEventListener("click", () => this.openDialog($("shortcuts-dialog"), $("btn-shortcuts")));
    $("btn-leave").addEventListener("click", () => this.leave());
    $("btn-end").addEventListener("click", () => this.openDialog($("end-dialog"), $("btn-end")));
    $("end-dialog").addEventListener("close", () => {
      if ($("end-dialog").returnValue === "end") this.send({ type: "end" });
    });

    $("chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("chat-input");
      const text = input.value.trim();
      if (!text) return;
      if (this.send({ type: "chat", text })) input.value = "";
      else ui.setStatus("The message could not be sent: the connection is down. Try again in a moment.");
    });

    const hostAction = (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button || this.role !== "host") return;
      const { action, peerId } = button.dataset;
      if (["mute", "remove", "admit", "deny"].includes(action)) this.send({ type: action, peer_id: peerId });
    };
    $("participant-list").addEventListener("click", hostAction);
    $("lobby-list").addEventListener("click", hostAction);

    // Arrow keys move along the toolbar (Tab still reaches every button).
    $("call-controls").addEventListener("keydown", (event) => {
      if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
      const buttons = [...$("call-controls").querySelectorAll("button:not([hidden]):not([disabled])")];
      const index = buttons.indexOf(document.activeElement);
      if (index < 0) return;
      const next = buttons[(index + (event.key === "ArrowRight" ? 1 : -1) + buttons.length) % buttons.length];
      next.focus();
      event.preventDefault();
    });

    document.addEventListener("keydown", (event) => this.shortcut(event));
    window.addEventListener("pagehide", () => this.teardownCall());
  }

  shortcut(event) {
    if (this.state !== "in-call" && this.state !== "reconnecting") return;
    if (document.querySelector("dialog[open]")) return;
    const typing = event.target.closest && event.target.closest("input, textarea, select, [contenteditable='true']");
    if (event.key === "?" && !typing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      this.openDialog($("shortcuts-dialog"), document.activeElement);
      return;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const actions = {
      KeyM: () => $("btn-mic").click(),
      KeyV: () => $("btn-camera").click(),
      KeyS: () => $("btn-screen").click(),
      KeyH: () => $("btn-hand").click(),
      KeyC: () => $("btn-chat").click(),
      KeyT: () => $("btn-captions").click(),
      KeyP: () => $("btn-participants").click(),
      KeyL: () => $("btn-leave").click(),
      KeyK: () => this.openDialog($("shortcuts-dialog"), document.activeElement),
    };
    const action = actions[event.code];
    if (!action) return;
    event.preventDefault();
    action();
  }

  // --- Diagnostics (window.onlineteacherCall) ----------------------------------------------

  async stats() {
    const result = {};
    for (const [peerId, link] of this.links) result[peerId] = await link.stats();
    return result;
  }

  dropSocketForTest() {
    if (this.signaling) this.signaling.drop();
  }
}

function main() {
  const root = document.getElementById("call");
  if (!root || !root.querySelector("[data-call-ui]")) return;
  const controller = new CallController(root);
  window.onlineteacherCall = {
    get peerId() {
      return controller.peerId;
    },
    get state() {
      return controller.state;
    },
    get peers() {
      return controller.peers;
    },
    stats: () => controller.stats(),
    dropSocketForTest: () => controller.dropSocketForTest(),
  };
  controller.start();
}

main();
