// The room's model: what the page knows of the session (loaded once), and the live connection:
// the room state in seq order, commands, media. No DOM; the view (room-view.js) draws the
// state, the controller (room.js) wires them.
import { get, session } from "../api.js";
import { Media } from "../media.js";
import { connectRoom } from "../room-client.js";

// The options of a signed-in participant's room: who they are in it and what its controls need
// (units and proposals for action items, the join link's visibility, the recording setting).
export async function loadRoomOptions(sessionId) {
  const me = session().person;
  const info = await get(`/api/sessions/${sessionId}`);
  const mine = info.participants.find((p) => p.person_id === me.id);
  const host = me.role === "staff" || mine?.role === "host";
  const units = host ? await get("/api/units").then((l) => l.items).catch(() => []) : [];
  // The session's proposals by number and title, for the action items a scribe records.
  const proposals = host ? await Promise.all(info.proposal_ids.map((id) => get(`/api/proposals/${id}`).then((p) => ({ id, label: `${p.number} ${p.title}` }), () => ({ id, label: `#${id}` })))) : [];
  return {
    sessionId,
    title: info.title,
    auth: { token: session().token },
    me: `p:${me.id}`,
    host,
    unitId: me.unit_id,
    agendaProposals: info.agenda.map((a) => a.proposal_id).filter(Boolean),
    proposals,
    public: info.visibility === "public",
    recording: info.recording,
    units,
  };
}

// Progress reports of the proposals on the agenda (hosts and their units show them).
export async function loadReports(proposalIds) {
  const lists = await Promise.all(proposalIds.map((pid) => get(`/api/proposals/${pid}/handling`).catch(() => null)));
  return lists.filter(Boolean).flatMap((l) => l.progress);
}

export class RoomModel {
  // `on`: change(state), media(), status(what), refused(message), lobby(notice), lobbyEvent(event).
  constructor(options, on) {
    this.options = options;
    this.room = connectRoom(options.sessionId, options.auth, options.me, options.host, {
      ...on,
      change: (state, event) => {
        if (this.media) {
          this.media.iceServers = this.room.iceServers;
          this.media.simulcast = this.room.simulcast;
          this.media.follow(state.feeds || [], state.floor?.holder || null);
        }
        on.change(state, event);
      },
    });
    // A stream came or went (also when the media moved to another server and was published again).
    this.media = new Media(
      this.room.socket,
      () => {
        if (this.room.state) on.media();
      },
      options.me,
    );
    // A weak link: audio only by itself (the view says so, with the way back).
    this.media.watchLink((verdict) => on.weak?.(verdict));
  }

  get state() {
    return this.room.state;
  }

  // A room command; throws the room's refusal (its message is for people).
  command(type, data) {
    return this.room.command(type, data);
  }

  // Someone's name as the room knows them (present, in view of a crowd, once present, admitted,
  // waiting).
  name(state, key) {
    return state.presence[key]?.name || state.names?.[key] || state.attendance?.[key]?.name || state.admitted[key]?.name || state.lobby?.[key]?.name || key;
  }

  removed(state) {
    return !!state.removed?.includes(this.options.me);
  }

  close() {
    this.media.close();
    this.room.close();
  }
}
