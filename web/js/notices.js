// The bell in the header: the signed-in person's unread notifications, kept live over Socket.IO
// (the default namespace; the server puts each connection in its person's room and pushes
// {"unread": N} after every change it committed). Pages that show notifications listen for
// the "xs:notifications" window event to refresh.
import { io } from "/vendor/socket.io.esm.min.js";
import { get, session } from "./api.js";
import { addTexts, t } from "./i18n.js";
import { h } from "./ui.js";

addTexts({
  "zh-CN": { bell: "通知", bellUnread: "通知，{n} 条未读" },
  en: { bell: "Notifications", bellUnread: "Notifications, {n} unread" },
});

const EVENT = "notifications";
let unread = 0;
let socket = null;
let token = null;

function paint() {
  for (const el of document.querySelectorAll("[data-bell]")) {
    el.setAttribute("aria-label", unread ? t("bellUnread", { n: unread }) : t("bell"));
    const count = el.querySelector(".count");
    count.textContent = unread > 99 ? "99+" : String(unread);
    count.hidden = unread === 0;
  }
}

function set(count) {
  unread = count;
  paint();
  window.dispatchEvent(new CustomEvent("xs:notifications", { detail: { unread } }));
}

async function refresh() {
  try {
    set((await get("/api/me/notifications?unread=true&limit=1")).unread);
  } catch {
    // the bell keeps its last count; the next push or page load corrects it
  }
}

// Connect (once per login) while someone is signed in; disconnect when they sign out.
export function watchNotices() {
  const current = session()?.token || null;
  if (current === token) return;
  if (socket) socket.disconnect();
  socket = null;
  token = current;
  unread = 0;
  if (!token) return;
  socket = io("/", { auth: { token }, transports: ["websocket"], reconnectionDelay: 1000, reconnectionDelayMax: 10000 });
  socket.on("connect", refresh); // also after a reconnect: pushes may have been missed meanwhile
  socket.on(EVENT, (data) => {
    if (data && Number.isInteger(data.unread)) set(data.unread);
  });
}

// The count changed here (e.g. this page marked some read).
export function setUnread(count) {
  set(count);
}

export function bell() {
  const link = h(
    "a",
    { class: "bell", href: "#/notifications", "data-bell": "", "aria-label": t("bell") },
    icon(),
    h("span", { class: "count", "aria-hidden": "true" }),
  );
  queueMicrotask(paint);
  return link;
}

function icon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}
