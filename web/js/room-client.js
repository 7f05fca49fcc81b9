// A connection to a live room: snapshot, events in order, resync on gaps, reconnection.
import { io } from "/vendor/socket.io.esm.min.js";
import { applyEvent } from "./room-state.js";

export function connectRoom(sessionId, auth, me, on) {
  const socket = io("/room", {
    auth: { ...auth, session_id: sessionId },
    transports: ["websocket"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
  });
  let state = null;
  let syncing = null;
  let iceServers = [];

  function take(snapshot) {
    if (snapshot.ice_servers) iceServers = snapshot.ice_servers;
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
        if (!applyEvent(state, event, me)) {
          const fresh = await socket.timeout(5000).emitWithAck("sync", { since: -1 });
          return take(fresh.snapshot);
        }
      }
      on.change(state, null);
    })().finally(() => (syncing = null));
    return syncing;
  }

  socket.on("snapshot", take);
  socket.on("lobby", (notice) => on.lobby?.(notice));
  socket.on("event", async (event) => {
    if (!state) {
      on.lobbyEvent?.(event); // a guest in the lobby hears only about themselves
      return;
    }
    if (event.seq <= state.seq) return;
    if (event.seq === state.seq + 1 && applyEvent(state, event, me)) on.change(state, event);
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
    get iceServers() {
      return iceServers;
    },
    async command(type, data = {}) {
      const answer = await socket.timeout(8000).emitWithAck("command", { type, data });
      if (!answer.ok) throw new Error(answer.error.message);
      return answer;
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
