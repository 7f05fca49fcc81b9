// The room state in the browser: the server's snapshot, then every event applied in seq order
// (the same effects as server/rooms/commands/, seen as server/rooms/views.py shows it to this
// viewer). A gap in seq, or an event this file does not know, makes the client ask the server
// (`sync`) instead of guessing. tests/server/rooms/test_room_state_js.py replays random event
// logs through both and checks that every kind of viewer ends with the server's view.

const MAX_CHAT = 500;

// Instants as the server writes them (Python's isoformat, 2026-12-01T01:30:00.123456+00:00),
// to the microsecond: whole seconds and a turn's `until` come out exactly as the server's.
const ISO = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)?$/;

function parseInstant(text) {
  const [, base, fraction = "", zone] = ISO.exec(text);
  const offset = !zone || zone === "Z" ? 0 : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4)));
  const micros = (Date.parse(`${base}Z`) - offset * 60000) * 1000 + Number(fraction.padEnd(6, "0"));
  return { micros, offset, zone: zone && (zone === "Z" ? "+00:00" : zone) };
}

const seconds = (from, to) => Math.trunc((parseInstant(to).micros - parseInstant(from).micros) / 1e6); // whole seconds, as int() does

// `text` plus `n` seconds, written as Python's isoformat writes it (same offset).
function addSeconds(text, n) {
  const { micros, offset, zone } = parseInstant(text);
  const wall = micros + n * 1e6 + offset * 60e6;
  const fraction = ((wall % 1e6) + 1e6) % 1e6;
  const base = new Date((wall - fraction) / 1000).toISOString().slice(0, 19);
  return `${base}${fraction ? `.${String(fraction).padStart(6, "0")}` : ""}${zone || ""}`;
}

// Python's dict.setdefault: state[key], made `value` first if missing.
function setdefault(object, key, value) {
  object[key] ??= value;
  return object[key];
}

// The current turn, if any, ends at `at`: its seconds go on its `spoken` entry.
function endTurn(state, at) {
  if (state.floor && state.spoken?.length) state.spoken[state.spoken.length - 1].seconds = seconds(state.floor.since, at);
}

// `who` leaves the queue (and the points of order).
function unqueue(state, who) {
  state.queue = state.queue.filter((w) => w !== who);
  state.points_of_order = (state.points_of_order || []).filter((w) => w !== who);
}

function stopTimer(state, at) {
  const timer = state.timer;
  if (timer?.running) {
    timer.elapsed += seconds(timer.started_at, at);
    timer.running = false;
    timer.started_at = null;
  }
}

const HANDLERS = {
  "session.start": (s, e) => Object.assign(s, { status: "live", started_at: e.at, current: e.data.current }),
  "session.end": (s, e) => {
    stopTimer(s, e.at);
    endTurn(s, e.at);
    Object.assign(s, { status: "ended", ended_at: e.at, floor: null, queue: [], recording: null, points_of_order: [] });
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
  "hand.raise": (s, e) => { s.queue.push(e.data.who); named(s, e.data); },
  "hand.lower": (s, e) => { unqueue(s, e.data.who); },
  "point_of_order.request": (s, e) => {
    const points = setdefault(s, "points_of_order", []);
    s.queue = s.queue.filter((w) => w !== e.data.who);
    s.queue.splice(points.length, 0, e.data.who);
    points.push(e.data.who);
    named(s, e.data);
  },
  "floor.grant": (s, e) => {
    endTurn(s, e.at);
    s.floor = { holder: e.data.who, since: e.at, seconds: e.data.seconds, until: addSeconds(e.at, e.data.seconds), grant: e.seq };
    unqueue(s, e.data.who);
    setdefault(s, "spoken", []).push({ who: e.data.who, item_id: s.current, at: e.at, seconds: null }); // who spoke on which item, how long
    named(s, e.data);
  },
  "floor.extend": (s, e) => {
    s.floor.seconds += e.data.seconds;
    s.floor.until = addSeconds(s.floor.until, e.data.seconds);
  },
  "floor.revoke": (s, e) => { endTurn(s, e.at); s.floor = null; },
  "floor.expire": (s, e) => { endTurn(s, e.at); s.floor = null; },
  "chat.send": (s, e) => {
    s.chat.push({ id: e.seq, who: e.data.who, name: e.data.name, text: e.data.text, kind: e.data.kind, at: e.at, hidden: false, answered: false });
    s.chat.splice(0, Math.max(0, s.chat.length - MAX_CHAT));
  },
  "chat.hide": (s, e, viewer) => {
    // A hidden message keeps its text only for those who moderate (as the server's view).
    for (const m of s.chat) if (m.id === e.data.message_id) Object.assign(m, viewer.drives ? { hidden: true } : { hidden: true, text: "" });
  },
  "question.answer": (s, e) => mark(s, e.data.message_id, "answered"),
  "lobby.enter": (s, e) => { s.lobby[e.data.who] = { name: e.data.name, since: e.at }; },
  "lobby.admit": (s, e) => {
    const guest = s.lobby[e.data.who];
    delete s.lobby[e.data.who];
    s.admitted[e.data.who] = { name: guest ? guest.name : e.data.name || "", since: e.at };
  },
  "lobby.admit_all": (s, e) => {
    for (const { who, name } of e.data.guests) {
      const guest = s.lobby[who];
      delete s.lobby[who];
      s.admitted[who] = { name: guest ? guest.name : name, since: e.at };
    }
  },
  "lobby.deny": (s, e) => { delete s.lobby[e.data.who]; if (!s.removed.includes(e.data.who)) s.removed.push(e.data.who); },
  "poll.open": (s, e) => {
    const { question, options, multiple, guests } = e.data;
    const electorate = e.data.voters || { roles: ["host", "proposer", "unit", "leader", "member"], guests };
    const extra = { electorate, threshold: e.data.threshold || "none", secret: e.data.secret || false, eligible: [...(e.data.eligible || [])] };
    s.polls[String(e.data.poll_id)] = { question, options, multiple, guests, ...extra, open: true, voters: 0, voted_by: [], my_choices: null, opened_at: e.at };
  },
  "poll.vote": (s, e, viewer) => {
    // Events never carry ballots: this viewer's own come from the votes it sent (a secret
    // poll's state never holds a choice, the viewer's own neither).
    const poll = s.polls[String(e.data.poll_id)];
    poll.voters += 1;
    poll.voted_by = [...poll.voted_by, e.data.who].sort(byCodePoint);
    if (e.data.who === viewer.key) poll.my_choices = poll.secret ? [] : (viewer.ballots?.[String(e.data.poll_id)] ?? poll.my_choices);
  },
  "poll.close": (s, e) => {
    const d = e.data;
    const poll = Object.assign(s.polls[String(d.poll_id)], { open: false, closed_at: e.at, results: d.results });
    if ("quorum_met" in d) poll.outcome = { eligible: d.eligible, present: d.present, voted: d.voted, quorum_met: d.quorum_met, passed: d.passed };
    if ("ballots" in d) poll.ballots = d.ballots;
  },
  "presence.join": (s, e) => {
    countCrowd(s, e);
    if (!e.data.who) return; // someone of the crowd, counted
    const record = attendanceOf(s, e.data);
    const here = s.presence[e.data.who];
    if (here) here.devices += 1;
    else {
      s.presence[e.data.who] = { name: e.data.name || "", role: e.data.role ?? null, attendance: e.data.attendance ?? null, devices: 1, since: e.at };
      record.joined.push(e.at);
    }
  },
  "presence.leave": (s, e) => {
    countCrowd(s, e);
    if (!e.data.who) return;
    const record = attendanceOf(s, e.data);
    const here = s.presence[e.data.who];
    if (here && --here.devices <= 0) {
      gone(s, e.data.who);
      record.left.push(e.at);
    }
  },
  "presence.batch": (s, e) => {
    // Joins and leaves the server coalesced, in their order: the same as one event each.
    countCrowd(s, e);
    for (const change of e.data.changes) HANDLERS[change.op === "leave" ? "presence.leave" : "presence.join"](s, { data: change, at: e.at });
  },
  "presence.reset": (s, e) => {
    countCrowd(s, e);
    s.feeds = (s.feeds || []).filter((f) => !e.data.who.includes(f.who));
    for (const who of e.data.who) {
      if (!(who in s.presence)) continue;
      gone(s, who);
      s.attendance?.[who]?.left.push(e.at);
    }
  },
  "presence.checkin": (s, e) => {
    const record = attendanceOf(s, e.data);
    record.attendance = "in_person";
    record.checked_in = e.at;
  },
  "participant.remove": (s, e) => {
    countCrowd(s, e);
    const who = e.data.who;
    if (who in s.presence) gone(s, who);
    delete s.admitted[who];
    delete s.lobby[who];
    unqueue(s, who);
    if (s.floor && s.floor.holder === who) {
      endTurn(s, e.at);
      s.floor = null;
    }
    if (!s.removed.includes(who)) s.removed.push(who);
  },
  "minutes.edit": (s, e) => {
    const d = e.data;
    if (!d.op) return; // an edit of the draft minutes, which this viewer does not read
    const item = setdefault(s.minutes, String(d.item_id), { notes: {}, decisions: {}, actions: {} });
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
    setdefault(s, "feeds", []).push({ feed_id: e.data.feed_id, person_id: person, who: e.data.who, source: e.data.source });
    named(s, e.data);
  },
  "feed.remove": (s, e) => { s.feeds = (s.feeds || []).filter((f) => f.feed_id !== e.data.feed_id); },
  "audio.mute": (s, e) => { if (!setdefault(s, "muted", []).includes(e.data.who)) s.muted.push(e.data.who); },
  "audio.unmute": (s, e) => { s.muted = (s.muted || []).filter((w) => w !== e.data.who); },
  "speaker.active": (s, e) => { s.speaker = e.data.who; },
  "recording.start": (s, e) => { s.recording = { since: e.at, by: e.by, name: e.data.name }; s.consent_asked = true; },
  "recording.ask": (s) => { s.consent_asked = true; },
  "recording.consent": (s, e) => { setdefault(s, "consent", {})[e.data.who] = { name: e.data.name, answer: e.data.answer, at: e.at }; },
  "recording.stop": (s) => { s.recording = null; },
  "progress.show": (s, e) => { s.showing = { ...e.data.report, shown_by: e.data.shown_by }; },
  "progress.hide": (s) => { s.showing = null; },
};

// A crowd room's view (server/rooms/crowd.py; only those who don't host it have `crowd`): the
// others present are counts by role, which each presence event changes by its `crowd`.
function countCrowd(state, event) {
  if (!state.crowd || !event.data.crowd) return;
  for (const [role, n] of Object.entries(event.data.crowd)) {
    const count = (state.crowd[role] || 0) + n;
    if (count) state.crowd[role] = count;
    else delete state.crowd[role];
  }
}

// In the crowd view, the name of someone who comes into view (a raised hand, the floor, a
// feed) and is not listed: the events that do so carry it. Names are kept once known.
function named(state, data) {
  if (state.names && data.name && !(data.who in state.presence)) state.names[data.who] = data.name;
}

// Someone listed is no longer present; the crowd view keeps their name (they may have spoken).
function gone(state, who) {
  if (state.names && state.presence[who].name) state.names[who] = state.presence[who].name;
  delete state.presence[who];
}

// Who came and went, kept after they leave (the first presence event of a person makes it).
// Python's sorted() of strings: by code point, not by locale.
function byCodePoint(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Only those who keep the record (they read draft minutes) get `attendance` in their snapshot;
// for everyone else the record is not kept here either.
function attendanceOf(state, data) {
  if (!state.attendance) return { joined: [], left: [] };
  state.attendance[data.who] ||= { name: data.name || "", role: data.role ?? null, attendance: data.attendance ?? null, joined: [], left: [] };
  return state.attendance[data.who];
}

function timerFor(state, event) {
  if (!state.timer || state.timer.item_id !== event.data.item_id) {
    state.timer = { item_id: event.data.item_id, running: false, started_at: null, elapsed: 0, extra: 0 };
  }
  return state.timer;
}

function mark(state, id, flag) {
  for (const message of state.chat) if (message.id === id) message[flag] = true;
}

// Apply one event as `viewer` ({key, drives, ballots}: its actor key, whether it hosts, and the
// choices it sent per poll id) sees it; false when it cannot be applied here (then resync).
export function applyEvent(state, event, viewer) {
  const handler = HANDLERS[event.type];
  if (!handler) return false;
  try {
    handler(state, event, viewer);
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
  if (!item?.planned_minutes) return null;
  let used = timer && timer.item_id === item.id ? timer.elapsed : 0;
  if (timer && timer.item_id === item.id && timer.running) used += (now - Date.parse(timer.started_at)) / 1000;
  const extra = timer && timer.item_id === item.id ? timer.extra : 0;
  return item.planned_minutes * 60 + extra - used;
}

// 应到 / 实到 / 投票 of a poll now (as server/rooms/commands/polls.py counts them): the eligible
// are its participants and, when guests vote, the admitted guests; present are the eligible in
// the room or who voted.
export function pollCounts(state, poll) {
  const eligible = new Set(poll.eligible || []);
  if (poll.guests) for (const key of Object.keys(state.admitted || {})) eligible.add(key);
  const voted = new Set(poll.voted_by || []);
  let present = 0;
  if (state.crowd) {
    // The crowd view lists some and counts the others by role: those of the poll's roles (and
    // the guests, when guests vote) are here. Someone who voted and left is counted when the
    // poll closes (the server's count); until then at least everyone who voted is.
    for (const key of eligible) if (key in state.presence) present += 1;
    const roles = poll.electorate?.roles || [];
    for (const [role, n] of Object.entries(state.crowd)) if (role === "guest" ? poll.guests : roles.includes(role)) present += n;
    present = Math.max(present, voted.size);
  } else for (const key of eligible) if (key in state.presence || voted.has(key)) present += 1;
  return { eligible: eligible.size, present, voted: poll.voters ?? voted.size };
}

// Each person's seconds with the floor (the running turn up to `now`), most first.
export function speakingTimes(state, now = Date.now(), itemId = undefined) {
  const totals = new Map();
  const turns = state.spoken || [];
  turns.forEach((turn, index) => {
    if (itemId !== undefined && turn.item_id !== itemId) return;
    let secs = turn.seconds;
    if (secs == null) secs = index === turns.length - 1 && state.floor ? Math.max(0, Math.trunc((now - Date.parse(turn.at)) / 1000)) : 0;
    totals.set(turn.who, (totals.get(turn.who) || 0) + secs);
  });
  return [...totals].map(([who, seconds]) => ({ who, seconds })).sort((a, b) => b.seconds - a.seconds);
}
