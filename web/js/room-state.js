// The room state in the browser: the server's snapshot, then every event applied in seq order
// (the same rules as server/rooms/apply.py, for what a viewer sees). A gap in seq, or an event
// this file does not know, makes the client ask the server (`sync`) instead of guessing.

const MAX_CHAT = 500;
const seconds = (from, to) => Math.trunc((Date.parse(to) - Date.parse(from)) / 1000); // as the server: whole seconds

function stopTimer(state, at) {
  const timer = state.timer;
  if (timer && timer.running) {
    timer.elapsed += seconds(timer.started_at, at);
    timer.running = false;
    timer.started_at = null;
  }
}

const HANDLERS = {
  "session.start": (s, e) => Object.assign(s, { status: "live", started_at: e.at, current: e.data.current }),
  "session.end": (s, e) => {
    stopTimer(s, e.at);
    Object.assign(s, { status: "ended", ended_at: e.at, floor: null, queue: [], recording: null });
  },
  "agenda.next": (s, e) => { stopTimer(s, e.at); s.current = e.data.current; },
  "agenda.prev": (s, e) => { stopTimer(s, e.at); s.current = e.data.current; },
  "agenda.goto": (s, e) => { stopTimer(s, e.at); s.current = e.data.current; },
  "agenda.add": (s, e) => { s.agenda.push({ ...e.data.item }); s.next_item_id = e.data.item.id + 1; },
  "agenda.reorder": (s, e) => {
    const byId = new Map(s.agenda.map((i) => [i.id, i]));
    s.agenda = e.data.item_ids.map((id) => byId.get(id));
  },
  "timer.start": (s, e) => { timerFor(s, e).running = true; s.timer.started_at = e.at; },
  "timer.pause": (s, e) => { timerFor(s, e); stopTimer(s, e.at); },
  "timer.extend": (s, e) => { timerFor(s, e).extra += e.data.seconds; },
  "hand.raise": (s, e) => { s.queue.push(e.data.who); },
  "hand.lower": (s, e) => { s.queue = s.queue.filter((w) => w !== e.data.who); },
  "floor.grant": (s, e) => {
    s.floor = {
      holder: e.data.who, since: e.at, seconds: e.data.seconds,
      until: new Date(Date.parse(e.at) + e.data.seconds * 1000).toISOString(), grant: e.seq,
    };
    s.queue = s.queue.filter((w) => w !== e.data.who);
  },
  "floor.extend": (s, e) => {
    s.floor.seconds += e.data.seconds;
    s.floor.until = new Date(Date.parse(s.floor.until) + e.data.seconds * 1000).toISOString();
  },
  "floor.revoke": (s) => { s.floor = null; },
  "floor.expire": (s) => { s.floor = null; },
  "chat.send": (s, e) => {
    s.chat.push({ id: e.seq, who: e.data.who, name: e.data.name, text: e.data.text, kind: e.data.kind, at: e.at, hidden: false, answered: false });
    s.chat.splice(0, Math.max(0, s.chat.length - MAX_CHAT));
  },
  "chat.hide": (s, e) => mark(s, e.data.message_id, "hidden"),
  "question.answer": (s, e) => mark(s, e.data.message_id, "answered"),
  "lobby.enter": (s, e) => { s.lobby[e.data.who] = { name: e.data.name, since: e.at }; },
  "lobby.admit": (s, e) => {
    const guest = s.lobby[e.data.who];
    delete s.lobby[e.data.who];
    s.admitted[e.data.who] = { name: guest ? guest.name : e.data.name || "", since: e.at };
  },
  "lobby.deny": (s, e) => { delete s.lobby[e.data.who]; if (!s.removed.includes(e.data.who)) s.removed.push(e.data.who); },
  "poll.open": (s, e) => {
    const { question, options, multiple, guests } = e.data;
    s.polls[String(e.data.poll_id)] = { question, options, multiple, guests, open: true, voters: 0, my_choices: null, opened_at: e.at };
  },
  "poll.vote": (s, e, me) => {
    const poll = s.polls[String(e.data.poll_id)];
    poll.voters += 1;
    if (e.data.who === me && e.data.choices) poll.my_choices = e.data.choices;
  },
  "poll.close": (s, e) => Object.assign(s.polls[String(e.data.poll_id)], { open: false, closed_at: e.at, results: e.data.results }),
  "presence.join": (s, e) => {
    const here = s.presence[e.data.who];
    if (here) here.devices += 1;
    else s.presence[e.data.who] = { name: e.data.name || "", role: e.data.role, attendance: e.data.attendance, devices: 1, since: e.at };
  },
  "presence.leave": (s, e) => {
    const here = s.presence[e.data.who];
    if (here && --here.devices <= 0) delete s.presence[e.data.who];
  },
  "presence.reset": (s, e) => {
    for (const who of e.data.who) delete s.presence[who];
    s.feeds = (s.feeds || []).filter((f) => !e.data.who.includes(f.who));
  },
  "presence.checkin": (s, e) => {
    const record = (s.attendance[e.data.who] ||= { name: e.data.name || "", joined: [], left: [] });
    record.attendance = "in_person";
    record.checked_in = e.at;
  },
  "participant.remove": (s, e) => {
    const who = e.data.who;
    delete s.presence[who];
    delete s.admitted[who];
    delete s.lobby[who];
    s.queue = s.queue.filter((q) => q !== who);
    if (s.floor && s.floor.holder === who) s.floor = null;
    if (!s.removed.includes(who)) s.removed.push(who);
  },
  "minutes.edit": (s, e) => {
    const d = e.data;
    const item = (s.minutes[String(d.item_id)] ||= { notes: {}, decisions: {}, actions: {} });
    if (d.op === "notes") {
      item.notes = { text: d.text, version: (item.notes.version || 0) + 1, by: e.by, at: e.at };
      return;
    }
    const group = d.op.startsWith("decision") ? item.decisions : item.actions;
    if (d.op.endsWith(".remove")) {
      delete group[d.entry_id];
      return;
    }
    const fields = {};
    for (const k of ["text", "owner_unit_id", "due", "proposal_id"]) if (k in d) fields[k] = d[k];
    const old = group[d.entry_id] || {};
    group[d.entry_id] = { ...old, ...fields, version: (old.version || 0) + 1, by: e.by, at: e.at };
  },
  "feed.add": (s, e) => {
    const person = e.data.who.startsWith("p:") ? Number(e.data.who.slice(2)) : null;
    (s.feeds ||= []).push({ feed_id: e.data.feed_id, person_id: person, who: e.data.who, source: e.data.source });
  },
  "feed.remove": (s, e) => { s.feeds = (s.feeds || []).filter((f) => f.feed_id !== e.data.feed_id); },
  "audio.mute": (s, e) => { if (!(s.muted ||= []).includes(e.data.who)) s.muted.push(e.data.who); },
  "audio.unmute": (s, e) => { s.muted = (s.muted || []).filter((w) => w !== e.data.who); },
  "speaker.active": (s, e) => { s.speaker = e.data.who; },
  "recording.start": (s, e) => { s.recording = { since: e.at, by: e.by, name: e.data.name }; },
  "recording.stop": (s) => { s.recording = null; },
  "progress.show": (s, e) => { s.showing = { ...e.data.report, shown_by: e.data.shown_by }; },
  "progress.hide": (s) => { s.showing = null; },
};

function timerFor(state, event) {
  if (!state.timer || state.timer.item_id !== event.data.item_id) {
    state.timer = { item_id: event.data.item_id, running: false, started_at: null, elapsed: 0, extra: 0 };
  }
  return state.timer;
}

function mark(state, id, flag) {
  for (const message of state.chat) if (message.id === id) message[flag] = true;
}

// Apply one event; false when it cannot be applied here (then resync).
export function applyEvent(state, event, me) {
  const handler = HANDLERS[event.type];
  if (!handler) return false;
  try {
    handler(state, event, me);
  } catch {
    return false;
  }
  state.seq = event.seq;
  return true;
}

// Seconds left on the current item's timer, given its planned minutes.
export function timerLeft(state, now = Date.now()) {
  const timer = state.timer;
  const item = state.agenda.find((i) => i.id === state.current);
  if (!item || !item.planned_minutes) return null;
  let used = timer && timer.item_id === item.id ? timer.elapsed : 0;
  if (timer && timer.item_id === item.id && timer.running) used += (now - Date.parse(timer.started_at)) / 1000;
  const extra = timer && timer.item_id === item.id ? timer.extra : 0;
  return item.planned_minutes * 60 + extra - used;
}
