// One RTCPeerConnection per remote peer, with "perfect negotiation"
// (https://w3c.github.io/webrtc-pc/#perfect-negotiation-example): the peer whose peer_id sorts
// first is polite and rolls back its own offer on glare; the other ignores the colliding offer.
// Existing peers offer to a newcomer (docs/signaling.md); every later change (ICE restart) may
// come from either side. Signaling frames for a peer are handled one at a time (a promise chain)
// and ICE candidates wait until the remote description is set.

export class PeerLink {
  /**
   * @param {{selfId: string, peerId: string, iceServers: RTCIceServer[], initiator: boolean,
   *          send: (frame: object) => void, getTracks: () => {audio: MediaStreamTrack|null,
   *          video: MediaStreamTrack|null, stream: MediaStream},
   *          onStream: (stream: MediaStream) => void, onConnectionState: (state: string) => void}} options
   */
  constructor(options) {
    this.options = options;
    this.peerId = options.peerId;
    this.polite = options.selfId < options.peerId;
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers || [] });
    this.remoteStream = new MediaStream();
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingRemoteAnswer = false;
    this.pendingCandidates = [];
    this.chain = Promise.resolve();
    this.closed = false;
    this.restartTimer = 0;
    this.audioSender = null;
    this.videoSender = null;

    const pc = this.pc;
    pc.addEventListener("track", (event) => {
      if (!this.remoteStream.getTracks().includes(event.track)) this.remoteStream.addTrack(event.track);
      event.track.addEventListener("unmute", () => this.options.onStream(this.remoteStream));
      this.options.onStream(this.remoteStream);
    });
    pc.addEventListener("icecandidate", (event) => {
      if (this.closed) return;
      this.options.send({
        type: "ice",
        to: this.peerId,
        candidate: event.candidate ? event.candidate.toJSON() : null,
      });
    });
    pc.addEventListener("negotiationneeded", () => this.offer());
    pc.addEventListener("connectionstatechange", () => this.connectionStateChanged());

    if (options.initiator) this.attachLocalMedia();
  }

  /** Give the connection one audio and one video sender carrying the current local tracks. */
  attachLocalMedia() {
    const { audio, video, stream } = this.options.getTracks();
    const pc = this.pc;
    const transceivers = pc.getTransceivers();
    for (const kind of ["audio", "video"]) {
      const track = kind === "audio" ? audio : video;
      let transceiver = transceivers.find(
        (t) => !t.stopped && t.receiver.track && t.receiver.track.kind === kind,
      );
      if (transceiver) {
        transceiver.direction = "sendrecv";
        transceiver.sender.replaceTrack(track).catch(() => {});
        if (transceiver.sender.setStreams) transceiver.sender.setStreams(stream);
      } else {
        transceiver = pc.addTransceiver(track || kind, { direction: "sendrecv", streams: [stream] });
      }
      if (kind === "audio") this.audioSender = transceiver.sender;
      else this.videoSender = transceiver.sender;
    }
  }

  /** Swap an outgoing track without renegotiating (screen share, device change). */
  replaceTrack(kind, track) {
    const sender = kind === "audio" ? this.audioSender : this.videoSender;
    if (!sender) return Promise.resolve();
    return sender.replaceTrack(track).catch(() => {});
  }

  async offer() {
    if (this.closed) return;
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const description = this.pc.localDescription;
      if (description && description.type === "offer") {
        this.options.send({ type: "offer", to: this.peerId, sdp: { type: "offer", sdp: description.sdp } });
      }
    } catch (error) {
      if (!this.closed) console.warn("offer failed", error);
    } finally {
      this.makingOffer = false;
    }
  }

  /** Queue one relayed frame (offer, answer or ice) behind the ones before it. */
  handle(frame) {
    this.chain = this.chain
      .then(() => (this.closed ? undefined : this.process(frame)))
      .catch((error) => {
        if (!this.closed) console.warn("signaling frame failed", frame.type, error);
      });
    return this.chain;
  }

  async process(frame) {
    const pc = this.pc;
    if (frame.type === "offer" || frame.type === "answer") {
      const description = frame.sdp;
      if (!description || description.type === "rollback") return;
      const readyForOffer =
        !this.makingOffer && (pc.signalingState === "stable" || this.settingRemoteAnswer);
      const collision = description.type === "offer" && !readyForOffer;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      if (description.type === "answer" && pc.signalingState !== "have-local-offer") return;
      this.settingRemoteAnswer = description.type === "answer";
      try {
        await pc.setRemoteDescription(description);
      } finally {
        this.settingRemoteAnswer = false;
      }
      await this.flushCandidates();
      if (description.type === "offer") {
        if (!this.audioSender) this.attachLocalMedia();
        await pc.setLocalDescription();
        const answer = pc.localDescription;
        this.options.send({ type: "answer", to: this.peerId, sdp: { type: answer.type, sdp: answer.sdp } });
      }
    } else if (frame.type === "ice") {
      if (!pc.remoteDescription) {
        this.pendingCandidates.push(frame.candidate);
        return;
      }
      await this.addCandidate(frame.candidate);
    }
  }

  async flushCandidates() {
    const queued = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of queued) await this.addCandidate(candidate);
  }

  async addCandidate(candidate) {
    try {
      await this.pc.addIceCandidate(candidate || undefined);
    } catch (error) {
      // Candidates of an offer we ignored on glare are expected to fail.
      if (!this.ignoreOffer) throw error;
    }
  }

  connectionStateChanged() {
    const state = this.pc.connectionState;
    this.options.onConnectionState(state);
    clearTimeout(this.restartTimer);
    if (state === "failed") {
      // The impolite side restarts at once; the polite side too if nothing happened meanwhile.
      this.restartTimer = setTimeout(() => this.restartIce(), this.polite ? 2000 : 0);
    }
  }

  restartIce() {
    if (this.closed || this.pc.connectionState !== "failed") return;
    this.pc.restartIce();
  }

  async stats() {
    const result = { framesDecoded: 0, frameWidth: 0, connectionState: this.pc.connectionState };
    if (this.closed) return result;
    const report = await this.pc.getStats();
    report.forEach((entry) => {
      if (entry.type === "inbound-rtp" && (entry.kind === "video" || entry.mediaType === "video")) {
        result.framesDecoded += entry.framesDecoded || 0;
        result.frameWidth = Math.max(result.frameWidth, entry.frameWidth || 0);
      }
    });
    return result;
  }

  close() {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.pc.close();
    for (const track of this.remoteStream.getTracks()) track.stop();
  }
}
