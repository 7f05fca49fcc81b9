// The single-page app: a header, and one page at a time chosen by the address.
import { forget, post, session } from "./api.js";
import { lang, setLang, t } from "./i18n.js";
import { h, mount } from "./ui.js";

const PAGES = {
  login: () => import("./pages/login.js"),
  home: () => import("./pages/home.js"),
  calendar: () => import("./pages/calendar.js"),
  schedule: () => import("./pages/schedule.js"),
  session: () => import("./pages/session.js"),
  room: () => import("./pages/room.js"),
  minutes: () => import("./pages/minutes.js"),
  proposal: () => import("./pages/proposal.js"),
  proposals: () => import("./pages/proposals.js"),
  followups: () => import("./pages/followups.js"),
  stats: () => import("./pages/stats.js"),
  join: () => import("./pages/join.js"),
  checkin: () => import("./pages/checkin.js"),
};

// Where we are: "#/sessions/12" → {page: "session", id: 12}; /join/12 and /checkin/12 are paths
// (they are printed in QR codes and emails).
export function route() {
  const path = location.pathname.match(/^\/(join|checkin)\/(\d+)/);
  if (path) return { page: path[1], id: Number(path[2]), query: new URLSearchParams(location.search) };
  const [hashPath, hashQuery] = (location.hash.replace(/^#/, "") || "/").split("?");
  const parts = hashPath.split("/").filter(Boolean);
  const query = new URLSearchParams(hashQuery || "");
  const table = {
    "": "home", login: "login", calendar: "calendar", schedule: "schedule", sessions: "session",
    rooms: "room", minutes: "minutes", proposals: "proposal", "follow-ups": "followups", stats: "stats",
  };
  const page = parts[0] === "proposals" && !parts[1] ? "proposals" : table[parts[0] || ""] || "missing";
  return { page, id: parts[1] ? Number(parts[1]) : null, query };
}

export function go(hash) {
  if (location.pathname !== "/") location.href = `/${hash}`;
  else location.hash = hash;
}

let leave = null; // the current page's clean-up (e.g. closing a socket)

function header() {
  const me = session()?.person;
  const staff = me?.role === "staff";
  const reader = staff || me?.role === "leader";
  const links = me
    ? [
        ["#/", t("home")],
        ["#/calendar", t("calendar")],
        staff ? ["#/schedule", t("schedule")] : null,
        me.role !== "guest" ? ["#/proposals", t("allProposals")] : null,
        ["#/follow-ups", t("followups")],
        reader ? ["#/stats", t("stats")] : null,
      ].filter(Boolean)
    : [];
  const current = `#${(location.hash.replace(/^#/, "") || "/").split("?")[0]}`;
  mount(
    document.getElementById("top"),
    h("a", { class: "brand", href: "#/" }, h("img", { src: "/web/img/icon.svg", alt: "" }), h("span", {}, t("app"))),
    h(
      "nav",
      { "aria-label": t("app") },
      links.map(([href, label]) => h("a", { href, "aria-current": href === current ? "page" : null }, label)),
    ),
    h(
      "div",
      { class: "who" },
      me ? h("span", { class: "muted" }, me.name) : null,
      h("button", { class: "link", type: "button", onclick: () => { setLang(lang === "en" ? "zh-CN" : "en"); render(); } }, t("lang")),
      me
        ? h("button", { class: "link", type: "button", onclick: async () => { try { await post("/api/auth/logout"); } catch {} forget(); go("#/login"); render(); } }, t("signout"))
        : null,
    ),
  );
}

export async function render() {
  if (leave) {
    const done = leave;
    leave = null;
    done();
  }
  const where = route();
  const open = new Set(["login", "join"]);
  if (!session() && !open.has(where.page)) {
    sessionStorage.setItem("xs.after", location.href);
    if (location.pathname !== "/") {
      location.href = "/#/login";
      return;
    }
    location.hash = "#/login";
    return;
  }
  header();
  const main = document.getElementById("main");
  if (!(where.page in PAGES)) {
    mount(main, h("p", {}, t("notFound")));
    return;
  }
  const module = await PAGES[where.page]();
  leave = (await module.show(main, where)) || null;
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", render);
render();
