// For tests/web/test_weak_network.py, evaluated in the page: web/js/media.js receives a feed
// through a stand-in for the room's socket (the server's side is a peer connection in the same
// page), and the feed is no longer wanted as soon as the page has made its answer. Returns the
// messages the page sent, in order.
async () => {
  const { Media } = await import("/web/js/media.js");
  const sent = [];
  const server = new RTCPeerConnection();
  server.addTransceiver("audio", { direction: "sendonly" });
  server.addTransceiver("video", { direction: "sendonly" });
  await server.setLocalDescription(await server.createOffer());
  const socket = {
    on() {},
    timeout() {
      return {
        async emitWithAck(event, data) {
          sent.push({ event, kinds: data.kinds || null });
          return { ok: true, sdp: server.localDescription.sdp };
        },
      };
    },
  };
  const media = new Media(socket, () => {}, "p:1");
  media.floorOnly = true;
  const feeds = [{ feed_id: "f1", who: "p:2", source: "camera" }];
  // Once the page answers the first offer, p:2 no longer holds the floor: only its sound is
  // wanted now.
  const made = RTCPeerConnection.prototype.setLocalDescription;
  let first = true;
  RTCPeerConnection.prototype.setLocalDescription = async function (description) {
    await made.call(this, description);
    if (this !== server && first) {
      first = false;
      media.follow(feeds, null);
    }
  };
  await media.follow(feeds, "p:2");
  for (let i = 0; i < 100 && sent.filter((m) => m.event === "rtc.answer").length < 1; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 4000)); // anything a 3 s wait would send
  RTCPeerConnection.prototype.setLocalDescription = made;
  media.close();
  server.close();
  return sent;
};
