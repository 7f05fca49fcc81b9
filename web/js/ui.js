// Small DOM helpers. Text always goes in through textContent, never as HTML.
import { lang, t } from "./i18n.js";

export const ZONE = "Asia/Shanghai";

// Text-direction controls (U+202A–U+202E embeddings and overrides, U+2066–U+2069 isolates):
// text that holds one goes into its own <bdi>, so an unterminated override in a chat message or
// a title cannot reverse the text that follows it on screen.
const DIRECTION = /[\u202a-\u202e\u2066-\u2069]/;
function text(value) {
  const node = document.createTextNode(value);
  if (!DIRECTION.test(value)) return node;
  const isolated = document.createElement("bdi");
  isolated.append(node);
  return isolated;
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : text(String(child)));
  }
  return el;
}

export function mount(target, ...children) {
  target.replaceChildren(...children.flat(Infinity).filter(Boolean));
}

const formats = new Map();
function format(options) {
  const key = lang + JSON.stringify(options);
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(lang, { timeZone: ZONE, ...options }));
  return formats.get(key);
}

export const fmt = {
  date: (iso) => format({ year: "numeric", month: "long", day: "numeric", weekday: "short" }).format(new Date(iso)),
  time: (iso) => format({ hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso)),
  dateTime: (iso) => format({ month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso)),
  span: (start, end) => `${fmt.date(start)} ${fmt.time(start)}–${fmt.time(end)}`,
  clock: (seconds) => {
    const s = Math.max(0, Math.round(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  },
};

// The calendar day (YYYY-MM-DD) of an instant in the committee's zone.
const isoDay = new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" });
export function dayOf(date) {
  return isoDay.format(date);
}

// An ISO instant for a local date and time in Asia/Shanghai (UTC+8, no daylight saving).
export function shanghai(day, time) {
  return `${day}T${time}:00+08:00`;
}

// A proposal's number and title; a member's proposal has no number until it is filed.
export function titled(p) {
  return [p.number, p.title].filter(Boolean).join(" ");
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind}` }, text);
}

export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 6000);
}

export function banner(message, kind = "") {
  const el = document.getElementById("banner");
  el.textContent = message || "";
  el.className = `banner ${kind}`;
  el.hidden = !message;
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", { class: "muted" }, hint) : null);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)),
  );
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", {}, title), ...children);
}

export function empty() {
  return h("p", { class: "muted" }, t("none"));
}

// Run an action, showing the server's message when it fails.
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    toast(error.message || t("error"));
    return undefined;
  }
}

export const KIND_COLORS = {
  handling: "kind-handling",
  quarterly_talk: "kind-quarterly",
  livelihood_hall: "kind-hall",
  micro: "kind-micro",
};
