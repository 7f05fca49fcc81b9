// Video through the server's SFU: publish the camera (and microphone) or the screen, and
// receive the feeds the room lists. Signaling is rtc.* over the room's Socket.IO connection,
// with complete SDP (we wait for ICE gathering before sending).
//
// Weak links: each person may receive audio only (no video at all, and their own camera stops
// sending while the microphone goes on) or only the floor holder's video and the screen share.
// What is not wanted is not sent by the server: a camera feed is subscribed with
// `kinds: ["audio"]` (the server then offers no video track) and a screen with nothing wanted is
// unsubscribed (`rtc.unsubscribe`). The choice is kept per person in localStorage. When the
// browser's statistics show a weak link (weak-link.js) the page falls back to audio only by
// itself (not kept: the next visit starts with the person's own choice).
//
// Simulcast (when the room's media server forwards layers: Janus; the snapshot says
// `simulcast`): the camera is published three times, full, half and quarter size (rids h, m, l),
// and each received camera is asked for the layer its tile needs (rtc.layer): a small tile takes
// the low one. On a weak link the page first takes the low layer of every camera, and falls back
// to audio only if the link stays weak.
import { WeakLink, fallBack, sampleOf } from "./weak-link.js";

const CAMERA = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15, max: 15 } };
// With simulcast the camera is asked for 540p: Chromium sends three layers only from 960×540
// up (two at 640×360, measured: the third is negotiated and never sent). Layers, largest first:
// 960×540, 480×270 and 240×135, each capped.
const CAMERA_LAYERED = { ...CAMERA, width: { ideal: 960 }, height: { ideal: 540 } };
const ENCODINGS = [
  { rid: "h", maxBitrate: 600_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 200_000 },
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 60_000 },
];
const LAYERS = ["low", "medium", "high"]; // smallest first, as rtc.layer names them
// The layer a tile needs: its width in device pixels above 480 wants the full picture, above
// 240 the half one, else the quarter one.
export function layerFor(pixels) {
  if (pixels > 480) return "high";
  if (pixels > 240) return "medium";
  return "low";
}
const SCREEN = { width: { ideal: 1920 }, height: { ideal: 1080 }, frameRate: { ideal: 5, max: 5 } };

// Resolves when the candidates are gathered, after 3 s, or when `entry` (a received feed) is
// dropped: its pc is closed then, and a closed pc reports no more gathering.
function gathered(pc, entry = {}) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    entry.dropped = resolve;
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

// A received feed no longer wanted: its pc closes and a subscription still being made stops
// waiting for it.
function drop(entry) {
  entry.pc?.close();
  entry.dropped?.();
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

const PREFS = "xs.roomMedia."; // + the person's key: {"audioOnly": bool, "floorOnly": bool}

export function loadPrefs(me) {
  try {
    const kept = JSON.parse(localStorage.getItem(PREFS + me) || "{}");
    return { audioOnly: kept.audioOnly === true, floorOnly: kept.floorOnly === true };
  } catch {
    return { audioOnly: false, floorOnly: false };
  }
}

function videoTransceiver(pc) {
  return pc.getTransceivers().find((tr) => tr.receiver.track?.kind === "video");
}

export class Media {
  constructor(socket, onChange, me = "") {
    this.socket = socket;
    this.onChange = onChange; // called when a stream appears or goes
    this.iceServers = [];
    this.published = new Map(); // feed_id -> {pc, stream, source}
    this.pending = new Set(); // sources being published (rtc.publish not answered yet)
    this.received = new Map(); // feed_id -> {pc, stream, who, source, want}
    this.feeds = []; // what the room lists, as last followed
    // Per feed, the last rtc.subscribe/unsubscribe sent: the next waits for it, so the server
    // sees them in order (it handles a connection's messages concurrently).
    this.chains = new Map();
    this.floor = null; // who holds the floor, as last followed
    this.me = me;
    Object.assign(this, loadPrefs(me));
    this.auto = false; // audio only because the link was weak (not the person's choice)
    this.simulcast = false; // the room's media server forwards layers (the snapshot says)
    this.lowered = false; // every camera on its low layer because the link was weak
    this.link = new WeakLink();
    this.verdict = null; // the weak-link detector's last verdict
    window.xieshang = { mediaStats: () => this.stats(), linkVerdict: () => this.verdict, sentLayers: () => this.sentLayers() };
    // The room's media server failed and the room moved: publish the same camera and screen
    // again and receive the listed feeds again (the old ones end with feed.remove).
    socket.on("rtc.restart", () => this.restart());
  }

  async restart() {
    const published = [...this.published.values()];
    this.published.clear();
    for (const feed of published) feed.pc.close();
    for (const feed of this.received.values()) drop(feed);
    this.received.clear();
    this.link.reset();
    this.onChange();
    for (const { stream, source } of published) this.republish(source, stream);
    await this.follow(this.feeds, this.floor);
  }

  // What to receive of a listed feed: "all", "audio" (a camera's sound without its picture) or
  // "none" (a screen while audio only).
  wanted(f) {
    if (f.source === "screen") return this.audioOnly ? "none" : "all";
    if (this.audioOnly) return "audio";
    if (this.floorOnly && f.who !== this.floor) return "audio";
    return "all";
  }

  // Audio only and/or floor only (`changes`), as the person chose them (kept) or as the
  // weak-link fall-back set them (`auto`: not kept, and kept out of what the person keeps).
  async setPrefs(changes, auto = false) {
    if ("audioOnly" in changes) {
      this.audioOnly = changes.audioOnly;
      this.auto = changes.audioOnly && auto;
      if (!this.audioOnly) {
        this.link.reset(); // back to video: judge the link afresh
        this.lowered = false;
      }
    }
    if ("floorOnly" in changes) this.floorOnly = changes.floorOnly;
    if (!auto) {
      try {
        const kept = { audioOnly: this.audioOnly && !this.auto, floorOnly: this.floorOnly };
        localStorage.setItem(PREFS + this.me, JSON.stringify(kept));
      } catch {
        /* private mode: the choice lasts for this page */
      }
    }
    await this.follow(this.feeds, this.floor);
    try {
      await this.sendCamera(!this.audioOnly);
    } finally {
      this.onChange();
    }
  }

  // What to ask of the camera: 360p, or 540p when it is sent as three layers.
  camera() {
    return this.simulcast ? CAMERA_LAYERED : CAMERA;
  }

  // Stop or start sending the camera's picture on the published camera feed, the microphone
  // going on: the video sender's track is replaced (no renegotiation; nothing is sent while it
  // is null) and the camera itself is released.
  async sendCamera(on) {
    for (const feed of this.published.values()) {
      if (feed.source !== "camera") continue;
      const transceiver = videoTransceiver(feed.pc);
      if (!transceiver) continue;
      const tracks = feed.stream.getVideoTracks();
      if (!on) {
        await transceiver.sender.replaceTrack(null);
        for (const track of tracks) {
          track.stop();
          feed.stream.removeTrack(track);
        }
      } else if (!tracks.length) {
        const camera = await navigator.mediaDevices.getUserMedia({ video: this.camera(), audio: false });
        const track = camera.getVideoTracks()[0];
        await transceiver.sender.replaceTrack(track);
        feed.stream.addTrack(track);
      }
    }
  }

  // Every `every` ms: the connections' statistics to the weak-link detector; after sustained
  // loss or too little bandwidth, audio only (`onWeak(verdict)` tells the page).
  watchLink(onWeak, every = 2000) {
    clearInterval(this.watching);
    this.watching = setInterval(async () => {
      if (this.audioOnly) return this.link.reset(); // nothing more to give up
      const connections = [];
      for (const [key, feed] of [...this.received, ...this.published]) {
        const stats = await feed.pc?.getStats().catch(() => null); // closed meanwhile
        if (stats) connections.push({ key, stats: [...stats.values()], sending: this.published.has(key) });
      }
      this.verdict = this.link.add(sampleOf(connections, performance.now()));
      if (this.verdict.weak && !this.audioOnly) {
        this.link.reset();
        if (fallBack(this.simulcast, this.lowered) === "low") {
          this.lowered = true; // the low layers first; audio only if that is still too much
          this.verdict = { ...this.verdict, lowered: true };
        } else await this.setPrefs({ audioOnly: true }, true).catch(() => {});
        onWeak(this.verdict);
      }
      this.fitLayers();
    }, every);
  }

  // Back from the low layers the weak link chose: each camera as its tile needs again.
  sharpen() {
    this.lowered = false;
    this.link.reset();
    this.fitLayers();
  }

  // The layer each received camera needs (its tile's size; low on a weak link).
  layerOf(entry, who = entry.who) {
    if (this.lowered) return "low";
    const video = [...document.querySelectorAll("video")].find((v) => v.srcObject === entry.stream);
    const tile = video || [...document.querySelectorAll(".tile[data-who]")].find((el) => el.dataset.who === who);
    if (!tile?.clientWidth) return entry.layer || "high"; // not shown (yet): keep it
    return layerFor(tile.clientWidth * (window.devicePixelRatio || 1));
  }

  // Ask the server for the layer each received camera needs now, where it changed: a larger
  // one with rtc.layer; a smaller one by subscribing again, asking for it before answering
  // (Janus switches a running subscription down only on a keyframe of the smaller layer, which
  // Chromium sent 40-90 s late in our tests; a new subscription gets it from the start).
  fitLayers() {
    if (!this.simulcast) return;
    let again = false;
    for (const [feedId, entry] of this.received) {
      if (entry.source !== "camera" || entry.want !== "all" || !entry.pc) continue;
      const layer = this.layerOf(entry);
      if (layer === entry.layer) continue;
      if (LAYERS.indexOf(layer) < LAYERS.indexOf(entry.layer)) {
        drop(entry);
        this.received.delete(feedId);
        again = true;
        continue;
      }
      entry.layer = layer;
      this.inTurn(feedId, () => this.call("rtc.layer", { feed_id: feedId, layer })).catch(() => {
        if (entry.layer === layer) entry.layer = null; // asked again next time
      });
    }
    if (again) {
      this.follow(this.feeds, this.floor);
      this.onChange();
    }
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
        : await navigator.mediaDevices.getUserMedia({ video: this.audioOnly ? false : this.camera(), audio: true }));
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const layered = source === "camera" && this.simulcast;
    const video = { direction: "sendonly", streams: [stream], ...(layered ? { sendEncodings: ENCODINGS.map((e) => ({ ...e })) } : {}) };
    for (const track of stream.getTracks()) pc.addTransceiver(track, track.kind === "video" ? video : { direction: "sendonly", streams: [stream] });
    // A camera sent as audio only still negotiates its video, empty, to fill it later.
    if (source === "camera" && !stream.getVideoTracks().length) pc.addTransceiver("video", video);
    preferVp8(pc);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    this.pending.add(source);
    try {
      const answer = await this.call("rtc.publish", { sdp: pc.localDescription.sdp, source });
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      this.published.set(answer.feed_id, { pc, stream, source, simulcast: answer.simulcast === true });
      const ended = stream.getVideoTracks()[0];
      if (ended) ended.addEventListener("ended", () => this.unpublish(answer.feed_id));
      this.onChange();
      return answer.feed_id;
    } catch (error) {
      pc.close();
      for (const track of stream.getTracks()) track.stop();
      throw error;
    } finally {
      this.pending.delete(source);
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

  // Receive what is wanted of every listed feed that is not ours (`floor`: who holds the
  // floor); drop those no longer listed, subscribe again those wanted otherwise now.
  async follow(feeds, floor = null) {
    this.feeds = feeds;
    this.floor = floor;
    const listed = new Map(feeds.map((f) => [f.feed_id, f]));
    for (const [feedId, entry] of this.received) {
      const f = listed.get(feedId);
      if (f && this.wanted(f) === entry.want) continue;
      drop(entry);
      this.received.delete(feedId);
      // Still listed but wanted no more: the server stops sending it (a different want is a
      // new rtc.subscribe below, which replaces the subscription on the server).
      if (f && this.wanted(f) === "none") this.inTurn(feedId, () => this.call("rtc.unsubscribe", { feed_id: feedId })).catch(() => {});
      this.onChange();
    }
    for (const f of feeds) {
      if (this.published.has(f.feed_id) || this.received.has(f.feed_id)) continue;
      // Our own feed, listed (feed.add) before rtc.publish answered: not to be received back.
      if (f.who === this.me && this.pending.has(f.source)) continue;
      const want = this.wanted(f);
      if (want === "none") continue;
      const entry = { pc: null, stream: new MediaStream(), who: f.who, source: f.source, want };
      this.received.set(f.feed_id, entry);
      this.inTurn(f.feed_id, () => this.subscribe(f, entry)).catch(() => {
        if (this.received.get(f.feed_id) === entry) this.received.delete(f.feed_id);
      });
    }
  }

  // Runs `step` after what was sent before for this feed (whether that worked or not).
  inTurn(feedId, step) {
    const run = (this.chains.get(feedId) || Promise.resolve()).catch(() => {}).then(step);
    this.chains.set(feedId, run);
    run.finally(() => this.chains.get(feedId) === run && this.chains.delete(feedId)).catch(() => {});
    return run;
  }

  async subscribe(f, entry) {
    if (this.received.get(f.feed_id) !== entry) return; // given up while waiting its turn
    const asked = { feed_id: f.feed_id };
    if (entry.want === "audio") asked.kinds = ["audio"];
    const offer = await this.call("rtc.subscribe", asked);
    // The layer its tile needs (the person's tile shows before the picture) or the low one on
    // a weak link, asked before answering: from the first picture on. (Janus switches down to
    // the low layer of a running subscription only on the publisher's next keyframe of it,
    // which Chromium sent 40-90 s later in our tests; up, within 0.2 s.)
    entry.layer = "high";
    if (this.simulcast && entry.want === "all" && f.source === "camera") {
      const layer = this.layerOf(entry, f.who);
      if (layer !== "high") await this.call("rtc.layer", { feed_id: f.feed_id, layer });
      entry.layer = layer;
    }
    if (await this.givenUp(f, entry)) return;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    entry.pc = pc;
    pc.addEventListener("track", (event) => {
      if (entry.want === "audio" && event.track.kind === "video") return;
      entry.stream.addTrack(event.track);
      this.onChange();
    });
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    // The server offers the sound alone (with Janus too, since it asks Janus for the feed's
    // audio streams by their mids); should an offer carry video anyway, the answer declines it.
    if (entry.want === "audio") for (const tr of pc.getTransceivers()) if (tr.receiver.track?.kind === "video") tr.direction = "inactive";
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc, entry);
    if (await this.givenUp(f, entry)) return; // no answer: the server's offer is not taken up
    await this.call("rtc.answer", { feed_id: f.feed_id, sdp: pc.localDescription.sdp });
  }

  // Whether `entry` was given up while subscribing (`follow` dropped it); unless another
  // subscription took its place, the server then lets go of it.
  async givenUp(f, entry) {
    if (this.received.get(f.feed_id) === entry) return false;
    if (!this.received.has(f.feed_id)) await this.call("rtc.unsubscribe", { feed_id: f.feed_id }).catch(() => {});
    return true;
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
      let videoPackets = 0;
      let audioPackets = 0;
      let bytes = 0;
      let video = false;
      let width = 0;
      let height = 0;
      (await feed.pc.getStats()).forEach((report) => {
        if (report.type !== "inbound-rtp") return;
        bytes += report.bytesReceived || 0;
        if (report.kind === "video") {
          video = true;
          decoded += report.framesDecoded || 0;
          videoPackets += report.packetsReceived || 0;
          width = report.frameWidth || width;
          height = report.frameHeight || height;
        } else audioPackets += report.packetsReceived || 0;
      });
      result[feedId] = { who: feed.who, source: feed.source, want: feed.want, layer: feed.layer || null, video, framesDecoded: decoded, videoPackets, audioPackets, bytes, frameWidth: width, frameHeight: height };
    }
    return result;
  }

  // What the published cameras send: one entry per simulcast layer (rid) or one without.
  async sentLayers() {
    const layers = [];
    for (const feed of this.published.values()) {
      (await feed.pc.getStats()).forEach((r) => {
        if (r.type === "outbound-rtp" && r.kind === "video") layers.push({ source: feed.source, rid: r.rid || null, frameWidth: r.frameWidth || 0, frameHeight: r.frameHeight || 0, bytesSent: r.bytesSent || 0, framesPerSecond: r.framesPerSecond || 0, framesEncoded: r.framesEncoded || 0, keyFramesEncoded: r.keyFramesEncoded || 0, pliCount: r.pliCount || 0, limitation: r.qualityLimitationReason || null });
      });
    }
    return layers;
  }

  close() {
    clearInterval(this.watching);
    for (const feed of this.published.values()) {
      for (const track of feed.stream.getTracks()) track.stop();
      feed.pc.close();
    }
    for (const feed of this.received.values()) drop(feed);
    this.published.clear();
    this.received.clear();
  }
}
