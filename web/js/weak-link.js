// Telling a weak link from the browser's own statistics (RTCPeerConnection.getStats), so the
// room can fall back to audio only by itself. Pure: samples in, a verdict out (no DOM, no
// timers, no WebRTC), so tests feed it synthetic samples.
//
// A sample is what the connections reported at one moment:
//   { at: <ms>, inbound: { <key>: { packetsLost, packetsReceived, bytesReceived } },
//     outgoing: <bit/s> | null, rtt: <s> | null }
// `inbound` has one entry per received video stream (key: feed and stats id; the counters are
// cumulative, as getStats gives them); `outgoing` is the lowest availableOutgoingBitrate the
// browser estimates for the connections it publishes on (null when it publishes nothing);
// `rtt` the longest currentRoundTripTime of the connections' ICE candidate pairs in use;
// `audio` (optional) has one entry per received audio stream: { concealedSamples,
// totalSamplesReceived, packetsReceived }, cumulative too.
//
// The link counts as weak after `samples` bad samples in a row. A sample is bad when the
// received video lost more than `loss` of its packets since the previous sample (counted over
// at least `minPackets`), or when the browser estimates it can send less than `lowBps` and the
// path shows it too (some loss, more than `someLoss`, or a round trip over `slowRtt`), or when
// the received sound was more than `concealed` made up by the browser (packets late or lost:
// `concealedSamples` over `totalSamplesReceived`, with at least `minAudioPackets` received, so
// a muted speaker, whose packets stop, is no sign). The last one is the queue of a link too
// narrow for the video the server forwards (bench/weaklink: no packet is lost for the first
// half-minute, they only come later and later, and the sound breaks up). The
// estimate alone is no sign: measured on loopback against the embedded SFU on a busy machine,
// aiortc's receiver-side estimate (REMB) made Chromium's figure fall to 46 kbit/s for seconds
// with no loss and a 1 ms round trip. Nor is the received bit rate: the sender decides it (a
// still slide shared at 5 fps needs very little), so it is reported but not judged.

export const LIMITS = Object.freeze({
  loss: 0.08,
  samples: 3,
  lowBps: 150_000,
  minPackets: 20,
  someLoss: 0.02,
  slowRtt: 0.25,
  concealed: 0.3,
  minAudioPackets: 25,
});

// The sample of these connections' stats: `connections` is [{ key, stats, sending }], `stats`
// the reports of one connection (RTCStatsReport values), `sending` true for a published one.
export function sampleOf(connections, at) {
  const inbound = {};
  const audio = {};
  let outgoing = null;
  let rtt = null;
  for (const { key, stats, sending } of connections) {
    for (const r of stats) {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        inbound[`${key}/${r.id}`] = { packetsLost: r.packetsLost || 0, packetsReceived: r.packetsReceived || 0, bytesReceived: r.bytesReceived || 0 };
      } else if (r.type === "inbound-rtp" && r.kind === "audio") {
        audio[`${key}/${r.id}`] = { concealedSamples: r.concealedSamples || 0, totalSamplesReceived: r.totalSamplesReceived || 0, packetsReceived: r.packetsReceived || 0 };
      } else if (r.type === "candidate-pair" && r.nominated && r.state === "succeeded") {
        if (typeof r.currentRoundTripTime === "number") rtt = Math.max(rtt ?? 0, r.currentRoundTripTime);
        if (sending && typeof r.availableOutgoingBitrate === "number") outgoing = Math.min(outgoing ?? Number.POSITIVE_INFINITY, r.availableOutgoingBitrate);
      }
    }
  }
  return { at, inbound, audio, outgoing, rtt };
}

// What happened between two samples: the share of video packets lost (null when too few
// packets came to tell), the received video bit rate (bit/s) and the share of the received
// sound the browser made up (null when too few audio packets came to tell).
export function between(previous, sample, limits = LIMITS) {
  let lost = 0;
  let received = 0;
  let bytes = 0;
  for (const [key, now] of Object.entries(sample.inbound)) {
    const before = previous.inbound[key];
    if (!before) continue; // a stream that just began: from the next sample on
    const dLost = now.packetsLost - before.packetsLost;
    const dReceived = now.packetsReceived - before.packetsReceived;
    if (dReceived < 0) continue; // counters started again (a new subscription)
    lost += Math.max(0, dLost);
    received += dReceived;
    bytes += Math.max(0, now.bytesReceived - before.bytesReceived);
  }
  let concealed = 0;
  let samples = 0;
  let audioPackets = 0;
  for (const [key, now] of Object.entries(sample.audio || {})) {
    const before = previous.audio?.[key];
    if (!before || now.totalSamplesReceived < before.totalSamplesReceived) continue;
    concealed += Math.max(0, now.concealedSamples - before.concealedSamples);
    samples += now.totalSamplesReceived - before.totalSamplesReceived;
    audioPackets += Math.max(0, now.packetsReceived - before.packetsReceived);
  }
  const seconds = (sample.at - previous.at) / 1000;
  const counted = lost + received;
  return {
    loss: counted >= limits.minPackets ? lost / counted : null,
    bps: seconds > 0 ? (bytes * 8) / seconds : null,
    concealed: audioPackets >= limits.minAudioPackets && samples > 0 ? concealed / samples : null,
  };
}

export class WeakLink {
  constructor(limits = LIMITS) {
    this.limits = { ...LIMITS, ...limits };
    this.reset();
  }

  // Forget what was seen (after the person went back to video, or the media restarted).
  reset() {
    this.previous = null;
    this.bad = 0;
  }

  // Takes the next sample; returns { weak, reason: "loss" | "audio" | "bandwidth" | null, loss,
  // bps, concealed, outgoing, bad } where `bad` counts the bad samples in a row so far.
  add(sample) {
    const { limits } = this;
    const seen = this.previous ? between(this.previous, sample, limits) : { loss: null, bps: null, concealed: null };
    this.previous = sample;
    let reason = null;
    const narrow = typeof sample.outgoing === "number" && sample.outgoing < limits.lowBps;
    const strained = (seen.loss !== null && seen.loss > limits.someLoss) || (typeof sample.rtt === "number" && sample.rtt > limits.slowRtt);
    if (seen.loss !== null && seen.loss > limits.loss) reason = "loss";
    else if (seen.concealed !== null && seen.concealed > limits.concealed) reason = "audio";
    else if (narrow && strained) reason = "bandwidth";
    this.bad = reason ? this.bad + 1 : 0;
    return { weak: this.bad >= limits.samples, reason, loss: seen.loss, bps: seen.bps, concealed: seen.concealed, outgoing: sample.outgoing ?? null, bad: this.bad };
  }
}

// What a weak link gives up next: with simulcast the cameras' low layers first ("low"), and
// audio only ("audio") when the link stays weak on them or there are no layers to pick.
export function fallBack(simulcast, lowered) {
  return simulcast && !lowered ? "low" : "audio";
}
