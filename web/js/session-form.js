// The model of the scheduling form (no DOM): a draft session, its changes, and the request body.
// The form schedules new sessions (#/schedule) and edits existing ones (#/sessions/N/edit).
import { get } from "./api.js";
import { dayOf, fmt, shanghai } from "./ui.js";

export const KINDS = ["handling", "quarterly_talk", "livelihood_hall", "micro"];
export const MODES = ["hybrid", "in_person", "remote"];
export const ROLES = ["host", "proposer", "unit", "leader", "member"];
export const STAGES = ["before", "during", "after"];
export const QUARTERLY = "FREQ=MONTHLY;INTERVAL=3";

function minutesOf(time) {
  const [hh, mm] = time.split(":").map(Number);
  return hh * 60 + mm;
}

function timeOf(minutes) {
  const m = Math.min(minutes, 23 * 60 + 59);
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function defaultRole(person) {
  return { unit: "unit", staff: "host", leader: "leader" }[person.role] || "member";
}

// A new draft for a kind, from its template.
export function newDraft(template, day) {
  const draft = {
    id: null,
    kind: template.kind,
    mode: template.mode,
    title: "",
    topic: "",
    day,
    start: "09:30",
    end: timeOf(minutesOf("09:30") + template.duration_minutes),
    venue_id: null,
    visibility: template.visibility,
    lobby: template.lobby,
    recording: template.recording,
    stage: template.kind === "handling" ? "during" : null,
    proposal_ids: [],
    agenda: template.agenda.map((title) => ({ title, proposal_id: null, presenter_id: null, planned_minutes: null })),
    participants: new Map(), // person id -> {role, attendance}
    recurrence: template.rrule ? { end: "count", count: 4, until: "", extra: [] } : null,
  };
  return draft;
}

// Another kind: its template's mode, visibility, duration, agenda (if untouched) and recurrence.
export function applyTemplate(draft, template, agendaTouched) {
  draft.kind = template.kind;
  draft.mode = template.mode;
  draft.visibility = template.visibility;
  draft.lobby = template.lobby;
  draft.recording = template.recording;
  draft.end = timeOf(minutesOf(draft.start) + template.duration_minutes);
  draft.stage = template.kind === "handling" ? draft.stage || "during" : null;
  if (!agendaTouched) draft.agenda = template.agenda.map((title) => ({ title, proposal_id: null, presenter_id: null, planned_minutes: null }));
  draft.recurrence = template.rrule ? draft.recurrence || { end: "count", count: 4, until: "", extra: [] } : null;
}

function parseRule(rule, extra) {
  const count = /COUNT=(\d+)/.exec(rule.rrule);
  const until = /UNTIL=(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(rule.rrule);
  return {
    base: rule.rrule.replace(/;?(COUNT|UNTIL)=[^;]*/g, ""), // kept as it was (e.g. monthly)
    end: count ? "count" : "until",
    count: count ? Number(count[1]) : 4,
    until: until ? dayOf(new Date(`${until[1]}-${until[2]}-${until[3]}T${until[4]}:${until[5]}:${until[6]}Z`)) : "",
    extra: extra.map((iso) => dayOf(new Date(iso))),
  };
}

// A draft from a stored session (for editing).
export function draftOf(s) {
  return {
    id: s.id,
    kind: s.kind,
    mode: s.mode,
    title: s.title,
    topic: s.topic || "",
    day: dayOf(new Date(s.starts_at)),
    start: fmt.time(s.starts_at),
    end: fmt.time(s.ends_at),
    venue_id: s.venue_id,
    visibility: s.visibility,
    lobby: s.lobby,
    recording: s.recording,
    stage: s.stage,
    proposal_ids: [...s.proposal_ids],
    agenda: s.agenda.map(({ title, proposal_id, presenter_id, planned_minutes }) => ({ title, proposal_id, presenter_id, planned_minutes })),
    participants: new Map(s.participants.map((p) => [p.person_id, { role: p.role, attendance: p.attendance }])),
    recurrence: s.recurrence ? parseRule(s.recurrence, s.recurrence.rdates) : null,
  };
}

export function choose(draft, person, on) {
  if (on && !draft.participants.has(person.id)) draft.participants.set(person.id, { role: defaultRole(person), attendance: null });
  if (!on) {
    draft.participants.delete(person.id);
    for (const item of draft.agenda) if (item.presenter_id === person.id) item.presenter_id = null;
  }
}

// Linking a proposal brings its proposers (as proposers) and its lead unit's people.
export function link(draft, proposal, on, people) {
  if (!on) {
    draft.proposal_ids = draft.proposal_ids.filter((id) => id !== proposal.id);
    for (const item of draft.agenda) if (item.proposal_id === proposal.id) item.proposal_id = null;
    return;
  }
  if (!draft.proposal_ids.includes(proposal.id)) draft.proposal_ids.push(proposal.id);
  for (const p of proposal.proposers) {
    if (!draft.participants.has(p.id)) draft.participants.set(p.id, { role: "proposer", attendance: null });
  }
  for (const person of people) {
    if (person.role === "unit" && person.unit_id === proposal.lead_unit_id && !draft.participants.has(person.id)) {
      draft.participants.set(person.id, { role: "unit", attendance: null });
    }
  }
}

export function addItem(draft) {
  draft.agenda.push({ title: "", proposal_id: null, presenter_id: null, planned_minutes: null });
}

export function moveItem(draft, index, delta) {
  const to = index + delta;
  if (to < 0 || to >= draft.agenda.length) return index;
  const [item] = draft.agenda.splice(index, 1);
  draft.agenda.splice(to, 0, item);
  return to;
}

export function removeItem(draft, index) {
  draft.agenda.splice(index, 1);
}

export function times(draft) {
  return { starts_at: shanghai(draft.day, draft.start), ends_at: shanghai(draft.day, draft.end) };
}

function utcStamp(iso) {
  return new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
}

export function recurrenceBody(draft) {
  const r = draft.recurrence;
  if (!r) return null;
  const end = r.end === "until" && r.until ? `UNTIL=${utcStamp(shanghai(r.until, "23:59"))}` : `COUNT=${Math.max(1, Number(r.count) || 1)}`;
  return { rrule: `${r.base || QUARTERLY};${end}`, rdates: r.extra.filter(Boolean).map((d) => shanghai(d, draft.start)) };
}

// The request body (POST /api/sessions, or PATCH for an edit).
export function bodyOf(draft, allowConflicts) {
  return {
    kind: draft.kind,
    mode: draft.mode,
    title: draft.title.trim(),
    topic: draft.topic.trim() || null,
    ...times(draft),
    timezone: "Asia/Shanghai",
    venue_id: draft.venue_id,
    visibility: draft.visibility,
    lobby: draft.lobby,
    recording: draft.recording,
    stage: draft.kind === "handling" ? draft.stage : null,
    proposal_ids: draft.proposal_ids,
    participants: [...draft.participants].map(([person_id, p]) => ({
      person_id,
      role: p.role,
      attendance: draft.mode === "hybrid" ? p.attendance : null,
    })),
    agenda: draft.agenda.map((item) => ({
      title: item.title.trim(),
      proposal_id: item.proposal_id,
      presenter_id: item.presenter_id,
      planned_minutes: item.planned_minutes ? Number(item.planned_minutes) : null,
    })),
    recurrence: recurrenceBody(draft),
    allow_conflicts: allowConflicts,
  };
}

// Working days: the year's notice (days off and 调休 working weekends), fetched once per year.
const years = new Map();
export async function workdayOf(day) {
  const year = Number(day.slice(0, 4));
  if (!years.has(year)) years.set(year, get(`/api/workdays/${year}`).catch(() => null));
  const notice = await years.get(year);
  const off = notice?.days_off.find((d) => d.date === day);
  if (off) return { working: false, why: "holiday", name: off.name };
  const extra = notice?.extra_workdays.find((d) => d.date === day);
  if (extra) return { working: true, why: "swapped", name: extra.name };
  const weekday = new Date(`${day}T12:00:00+08:00`).getUTCDay();
  return weekday === 0 || weekday === 6 ? { working: false, why: "weekend", name: "" } : { working: true, why: "", name: "" };
}
