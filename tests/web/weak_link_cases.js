// The detector's cases for tests/web/test_weak_network.py, evaluated in the page: synthetic
// samples in, verdicts out.
async () => {
  const { WeakLink, sampleOf, between, fallBack } = await import("/web/js/weak-link.js");
  const { layerFor } = await import("/web/js/media.js");
  // One received video stream: packets lost and received per 2 s sample.
  const run = (steps, outgoing = () => null, rtt = 0.001) => {
    const link = new WeakLink();
    let lost = 0, got = 0;
    return steps.map(([l, r], i) => {
      lost += l; got += r;
      const inbound = { "f/IV": { packetsLost: lost, packetsReceived: got, bytesReceived: got * 1000 } };
      return link.add({ at: i * 2000, inbound, outgoing: outgoing(i), rtt });
    });
  };
  // Clean video and one received audio stream: samples concealed, received, packets per 2 s.
  const heard = (steps) => {
    const link = new WeakLink();
    let concealed = 0, total = 0, packets = 0;
    return steps.map(([c, t, p], i) => {
      concealed += c; total += t; packets += p;
      const inbound = { "f/IV": { packetsLost: 0, packetsReceived: 100 * (i + 1), bytesReceived: 1 } };
      const audio = { "f/IA": { concealedSamples: concealed, totalSamplesReceived: total, packetsReceived: packets } };
      return link.add({ at: i * 2000, inbound, audio, outgoing: null, rtt: 0.2 });
    });
  };
  const reset = new WeakLink();
  reset.add({ at: 0, inbound: { a: { packetsLost: 50, packetsReceived: 900, bytesReceived: 1 } }, outgoing: null });
  const fresh = reset.add({ at: 2000, inbound: { a: { packetsLost: 0, packetsReceived: 10, bytesReceived: 1 } }, outgoing: null });
  const sample = sampleOf([
    { key: "r", stats: [
      { type: "inbound-rtp", kind: "video", id: "V", packetsLost: 3, packetsReceived: 97, bytesReceived: 5 },
      { type: "inbound-rtp", kind: "audio", id: "A", packetsLost: 9, packetsReceived: 1, bytesReceived: 5 },
      { type: "candidate-pair", nominated: true, state: "succeeded", availableOutgoingBitrate: 20000, currentRoundTripTime: 0.3 },
    ] },
    { key: "p", sending: true, stats: [
      { type: "candidate-pair", nominated: true, state: "succeeded", availableOutgoingBitrate: 400000, currentRoundTripTime: 0.1 },
      { type: "candidate-pair", nominated: false, state: "succeeded", availableOutgoingBitrate: 1000 },
    ] },
  ], 5);
  return {
    lossy: run([[0, 100], [10, 90], [12, 88], [15, 85]]),
    mild: run([[0, 100], [5, 95], [6, 94], [7, 93], [5, 95]]),
    broken: run([[0, 100], [10, 90], [10, 90], [0, 100], [10, 90], [10, 90]]),
    few: run([[0, 10], [5, 5], [5, 5], [5, 5]]),
    narrow: run([[0, 100], [0, 100], [0, 100]], () => 100000, 0.4),
    narrowLossy: run([[0, 100], [3, 97], [4, 96], [3, 97]], () => 100000),
    estimateOnly: run([[0, 100], [0, 100], [0, 100], [0, 100]], () => 46000),
    wide: run([[0, 100], [0, 100], [0, 100]], () => 300000, 0.4),
    // As measured in bench/weaklink: a queue filling up, no loss, the sound breaking up.
    choppy: heard([[0, 96000, 100], [48000, 96000, 45], [72000, 96000, 40], [40000, 96000, 42]]),
    // A speaker muted: no packets come, the browser fills the silence: no sign.
    muted: heard([[0, 96000, 100], [96000, 96000, 0], [96000, 96000, 0], [96000, 96000, 0]]),
    // The odd gap (one in three, 16 % at most, as the light picture gave): not weak.
    gaps: heard([[0, 96000, 100], [15000, 96000, 90], [1000, 96000, 100], [15000, 96000, 90], [500, 96000, 100]]),
    // A quarter of the sound made up, sustained (a busy machine's late packets): not weak yet.
    rough: heard([[0, 96000, 100], [24000, 96000, 80], [24000, 96000, 80], [24000, 96000, 80]]),
    fresh, sample,
    layers: [100, 170, 240, 241, 480, 481, 1920].map(layerFor),
    fallBacks: [fallBack(true, false), fallBack(true, true), fallBack(false, false)],
    rate: between({ at: 0, inbound: { x: { packetsLost: 0, packetsReceived: 0, bytesReceived: 0 } } },
                  { at: 2000, inbound: { x: { packetsLost: 0, packetsReceived: 50, bytesReceived: 50000 } } }),
  };
}
