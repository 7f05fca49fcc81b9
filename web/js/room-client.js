// A connection to a live room: snapshot, events in order, resync on gaps, reconnection.
import { io } from "/vendor/socket.io.esm.min.js";
import { lang } from "./i18n.js";
import { applyEvent } from "./room-state.js";

// `me` is this connection's actor key (p:<id>, g:<id>), `drives` whether it hosts (staff or the
// session's host): it decides what the room state shows, as the server's view for it does.
export function connectRoom(sessionId, auth, me, drives, on) {
  const socket = io("/room", {
    auth: { ...auth, session_id: sessionId },
    query: { lang }, // refusals in the page's language (the server reads ?lang= first)
    transports: ["websocket"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
  });
  let state = null;
  let syncing = null;
  let iceServers = [];
  let simulcast = false; // the media server forwards simulcast layers (Janus)
  const viewer = { key: me, drives, ballots: {} }; // ballots: the choices this client sent, per poll

  function take(snapshot) {
    if (snapshot.ice_servers) iceServers = snapshot.ice_servers;
    if ("simulcast" in snapshot) simulcast = snapshot.simulcast === true;
    state = snapshot.state;
    state.seq = snapshot.seq;
    on.change(state, null);
  }

  async function resync() {
    if (!state) return;
    syncing ||= (async () => {
      const answer = await socket.timeout(5000).emitWithAck("sync", { since: state.seq });
      if (!answer.ok) throw new Error(answer.error.message);
      if (answer.snapshot) return take(answer.snapshot);
      for (const event of answer.events) {
        if (event.seq <= state.seq) continue;
        if (!applyEvent(state, event, viewer)) {
          const fresh = await socket.timeout(5000).emitWithAck("sync", { since: -1 });
          return take(fresh.snapshot);
        }
      }
      on.change(state, null);
    })().finally(() => (syncing = null));
    return syncing;
  }

  socket.on("snapshot", take);
  // The server could not push every event this connection missed (a long Redis outage).
  socket.on("resync", () => resync().catch(() => on.status?.("lost")));
  socket.on("lobby", (notice) => on.lobby?.(notice));
  socket.on("event", async (event) => {
    if (!state) {
      on.lobbyEvent?.(event); // a guest in the lobby hears only about themselves
      return;
    }
    if (event.seq <= state.seq) return;
    if (event.seq === state.seq + 1 && applyEvent(state, event, viewer)) on.change(state, event);
    else await resync().catch(() => on.status?.("lost"));
  });
  socket.on("connect", () => on.status?.("connected"));
  socket.on("disconnect", () => on.status?.("lost"));
  socket.on("connect_error", (error) => on.refused?.(error.message));

  return {
    socket,
    get state() {
      return state;
    },
    get simulcast() {
      return simulcast;
    },
    get iceServers() {
      return iceServers;
    },
    async command(type, data = {}) {
      // A ballot is kept before it is sent (its event may come before the answer), and dropped
      // if it was refused; the first accepted one stays (a poll takes one vote each).
      const ballot = type === "poll.vote" && !(String(data.poll_id) in viewer.ballots) ? String(data.poll_id) : null;
      if (ballot) viewer.ballots[ballot] = data.choices;
      let answer = null;
      try {
        answer = await socket.timeout(8000).emitWithAck("command", { type, data });
      } finally {
        if (ballot && !answer?.ok) delete viewer.ballots[ballot];
      }
      if (!answer.ok) throw new Error(answer.error.message);
      return answer;
    },
    // Asks the room for what this connection missed (throws when the room does not answer).
    refresh() {
      return resync();
    },
    async join() {
      const answer = await socket.timeout(8000).emitWithAck("join", {});
      if (!answer.ok) throw new Error(answer.error.message);
      if (answer.snapshot) take(answer.snapshot);
    },
    close() {
      socket.close();
    },
  };
}
