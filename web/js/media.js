// Video through the server's SFU: publish the camera (and microphone) or the screen, and
// receive every feed the room lists. Signaling is rtc.* over the room's Socket.IO connection,
// with complete SDP (we wait for ICE gathering before sending).

const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 15 } };
const SCREEN = { width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: 5, max: 5 } };

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", check);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 3000); // use what we have
  });
}

function preferVp8(pc) {
  for (const transceiver of pc.getTransceivers()) {
    const kind = transceiver.sender.track?.kind || transceiver.receiver.track?.kind;
    if (kind !== "video" || !RTCRtpSender.getCapabilities) continue;
    const codecs = RTCRtpSender.getCapabilities("video").codecs;
    const vp8 = codecs.filter((c) => c.mimeType === "video/VP8");
    const rest = codecs.filter((c) => c.mimeType !== "video/VP8");
    try {
      transceiver.setCodecPreferences([...vp8, ...rest]);
    } catch {
      /* older browsers: VP8 is usually first anyway */
    }
  }
}

export class Media {
  constructor(socket, onChange) {
    this.socket = socket;
    this.onChange = onChange; // called when a stream appears or goes
    this.iceServers = [];
    this.published = new Map(); // feed_id -> {pc, stream, source}
    this.received = new Map(); // feed_id -> {pc, stream, who, source}
    this.feeds = []; // what the room lists, as last followed
    window.xieshang = { mediaStats: () => this.stats() };
    // The room's media server failed and the room moved: publish the same camera and screen
    // again and receive the listed feeds again (the old ones end with feed.remove).
    socket.on("rtc.restart", () => this.restart());
  }

  async restart() {
    const published = [...this.published.values()];
    this.published.clear();
    for (const feed of published) feed.pc.close();
    for (const feed of this.received.values()) feed.pc?.close();
    this.received.clear();
    this.onChange();
    for (const { stream, source } of published) this.republish(source, stream);
    await this.follow(this.feeds);
  }

  // The new media server may need a moment (or be the old one coming back): try a few times.
  async republish(source, stream, attempt = 1) {
    try {
      await this.publish(source, stream);
    } catch {
      if (attempt < 5) setTimeout(() => this.republish(source, stream, attempt + 1), 2000 * attempt);
      else for (const track of stream.getTracks()) track.stop();
    }
  }

  async call(event, data) {
    const answer = await this.socket.timeout(15000).emitWithAck(event, data);
    if (!answer.ok) throw new Error(answer.error.message);
    return answer;
  }

  async publish(source, reuse = null) {
    const stream =
      reuse ||
      (source === "screen"
        ? await navigator.mediaDevices.getDisplayMedia({ video: SCREEN, audio: false })
        : await navigator.mediaDevices.getUserMedia({ video: CAMERA, audio: true }));
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    preferVp8(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    try {
      const answer = await this.call("rtc.publish", { sdp: pc.localDescription.sdp, source });
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      this.published.set(answer.feed_id, { pc, stream, source });
      const ended = stream.getVideoTracks()[0];
      if (ended) ended.addEventListener("ended", () => this.unpublish(answer.feed_id));
      this.onChange();
      return answer.feed_id;
    } catch (error) {
      pc.close();
      for (const track of stream.getTracks()) track.stop();
      throw error;
    }
  }

  async unpublish(feedId) {
    const feed = this.published.get(feedId);
    if (!feed) return;
    this.published.delete(feedId);
    for (const track of feed.stream.getTracks()) track.stop();
    feed.pc.close();
    this.onChange();
    try {
      await this.call("rtc.unpublish", { feed_id: feedId });
    } catch {
      /* already gone */
    }
  }

  // Receive every listed feed that is not ours; drop those no longer listed.
  async follow(feeds) {
    this.feeds = feeds;
    const listed = new Set(feeds.map((f) => f.feed_id));
    for (const [feedId, feed] of this.received) {
      if (!listed.has(feedId)) {
        feed.pc.close();
        this.received.delete(feedId);
        this.onChange();
      }
    }
    for (const f of feeds) {
      if (this.published.has(f.feed_id) || this.received.has(f.feed_id)) continue;
      this.received.set(f.feed_id, { pc: null, stream: new MediaStream(), who: f.who, source: f.source });
      this.subscribe(f).catch(() => this.received.delete(f.feed_id));
    }
  }

  async subscribe(f) {
    const offer = await this.call("rtc.subscribe", { feed_id: f.feed_id });
    const entry = this.received.get(f.feed_id);
    if (!entry) return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    entry.pc = pc;
    pc.addEventListener("track", (event) => {
      entry.stream.addTrack(event.track);
      this.onChange();
    });
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    await this.call("rtc.answer", { feed_id: f.feed_id, sdp: pc.localDescription.sdp });
  }

  // The video to show for a person (their camera) and any screen being shared.
  streamOf(who, source = "camera") {
    for (const feed of this.received.values()) if (feed.who === who && feed.source === source) return feed.stream;
    return null;
  }

  ownStream(source = "camera") {
    for (const feed of this.published.values()) if (feed.source === source) return feed.stream;
    return null;
  }

  screen() {
    for (const feed of this.received.values()) if (feed.source === "screen") return feed;
    return null;
  }

  async stats() {
    const result = {};
    for (const [feedId, feed] of this.received) {
      if (!feed.pc) continue;
      let decoded = 0;
      (await feed.pc.getStats()).forEach((report) => {
        if (report.type === "inbound-rtp" && report.kind === "video") decoded += report.framesDecoded || 0;
      });
      result[feedId] = { who: feed.who, source: feed.source, framesDecoded: decoded };
    }
    return result;
  }

  close() {
    for (const feed of this.published.values()) {
      for (const track of feed.stream.getTracks()) track.stop();
      feed.pc.close();
    }
    for (const feed of this.received.values()) feed.pc?.close();
    this.published.clear();
    this.received.clear();
  }
}
