// The single-page app: a header, and one page at a time chosen by the address.
import { forget, get, patch, post, remember, session } from "./api.js";
import { addTexts, lang, setLang, t } from "./i18n.js";
import { bell, watchNotices } from "./notices.js";
import { errorState, isCurrent, loadingState, nextTicket, notFound, toSignIn } from "./page.js";
import { staffLinks } from "./staff-nav.js";
import { h, mount } from "./ui.js";

// The header's links to each role's workspace.
addTexts({
  "zh-CN": { navMyHandling: "我的承办", navMyProposals: "我的提案", navSupervised: "重点提案", myCalendar: "我的日历", navSupervision: "两轮督办", navSelections: "优秀提案评选", navMyReviews: "我的评审" },
  en: { navMyHandling: "My handling", navMyProposals: "My proposals", navSupervised: "Key proposals", myCalendar: "My calendar", navSupervision: "Supervision rounds", navSelections: "Best proposals", navMyReviews: "My reviews" },
});
addTexts({ "zh-CN": { navMyDrafts: "我的草稿", navReview: "立案审查" }, en: { navMyDrafts: "My drafts", navReview: "Filing review" } });

const PAGES = {
  login: () => import("./pages/login.js"),
  home: () => import("./pages/home.js"),
  calendar: () => import("./pages/calendar.js"),
  schedule: () => import("./pages/schedule.js"),
  session: () => import("./pages/session.js"),
  mycalendar: () => import("./pages/mycalendar.js"),
  room: () => import("./pages/room.js"),
  minutes: () => import("./pages/minutes.js"),
  proposal: () => import("./pages/proposal.js"),
  proposals: () => import("./pages/proposals.js"),
  proposalForm: () => import("./pages/proposal-form.js"),
  admin: () => import("./pages/admin.js"),
  audit: () => import("./pages/audit.js"),
  followups: () => import("./pages/followups.js"),
  stats: () => import("./pages/stats.js"),
  myHandling: () => import("./pages/my-handling.js"),
  myProposals: () => import("./pages/my-proposals.js"),
  supervised: () => import("./pages/supervised.js"),
  supervision: () => import("./pages/supervision.js"),
  join: () => import("./pages/join.js"),
  checkin: () => import("./pages/checkin.js"),
  notifications: () => import("./pages/notifications.js"),
  notificationSettings: () => import("./pages/notification-settings.js"),
  hall: () => import("./pages/hall.js"),
  selections: () => import("./pages/selections.js"),
  myReviews: () => import("./pages/selections.js"),
  unitStats: () => import("./pages/unit-stats.js"),
  proposalImport: () => import("./pages/proposal-import.js"),
  myDrafts: () => import("./pages/my-drafts.js"),
  draftEditor: () => import("./pages/draft-editor.js"),
  review: () => import("./pages/review.js"),
};

// Where we are: "#/sessions/12" → {page: "session", id: 12}; /join/12 and /checkin/12 are paths
// (they are printed in QR codes and emails). One line per address pattern; the first that
// matches names the page, and its first number is the page's id.
const ROUTES = [
  [/^$/, "home"],
  [/^login$/, "login"],
  [/^calendar$/, "calendar"],
  [/^schedule$/, "schedule"],
  [/^sessions\/(\d+)$/, "session"],
  [/^sessions\/(\d+)\/edit$/, "schedule"],
  [/^my\/calendar$/, "mycalendar"],
  [/^rooms\/(\d+)$/, "room"],
  [/^minutes\/(\d+)$/, "minutes"],
  [/^proposals$/, "proposals"],
  [/^proposals\/(\d+)$/, "proposal"],
  [/^proposals\/new$/, "proposalForm"],
  [/^proposals\/(\d+)\/edit$/, "proposalForm"],
  [/^admin(?:\/(people|units|venues|workdays|evaluation))?$/, "admin"],
  [/^audit$/, "audit"],
  [/^follow-ups$/, "followups"],
  [/^stats$/, "stats"],
  [/^my\/handling$/, "myHandling"],
  [/^my\/proposals$/, "myProposals"],
  [/^my\/supervised$/, "supervised"],
  [/^notifications$/, "notifications"],
  [/^notifications\/settings$/, "notificationSettings"],
  [/^supervision(?:\/(\d+))?$/, "supervision"],
  [/^selections(?:\/(\d+))?$/, "selections"],
  [/^my\/reviews$/, "myReviews"],
  [/^stats\/units$/, "unitStats"],
  [/^proposals\/import$/, "proposalImport"],
  [/^my\/drafts$/, "myDrafts"],
  [/^my\/drafts\/new$/, "draftEditor"],
  [/^my\/drafts\/(\d+)$/, "draftEditor"],
  [/^review$/, "review"],
];

export function route() {
  // Where the organisation's sign-in service sends people back (server: RETURN_PATH).
  if (location.pathname === "/login/oidc") return { page: "login", id: null, params: [], query: new URLSearchParams(location.search) };
  const path = location.pathname.match(/^\/(join|checkin|hall)\/(\d+)/);
  if (path) return { page: path[1], id: Number(path[2]), query: new URLSearchParams(location.search) };
  const [hashPath, hashQuery] = (location.hash.replace(/^#/, "") || "/").split("?");
  const clean = hashPath.split("/").filter(Boolean).join("/");
  const query = new URLSearchParams(hashQuery || "");
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(clean);
    if (match) return { page, id: match[1] ? Number(match[1]) : null, params: match.slice(1), query };
  }
  return { page: "missing", id: null, params: [], query };
}

export function go(hash) {
  if (location.pathname !== "/") location.href = `/${hash}`;
  else location.hash = hash;
}

let leave = null; // the current page's clean-up (e.g. closing a socket)

// The header's language switch: the page changes at once; for a signed-in person the choice is
// also saved (PATCH /api/me), so their emails and their next sign-in come in it too.
async function switchLanguage() {
  const next = lang === "en" ? "zh-CN" : "en";
  setLang(next);
  render();
  const stored = session();
  if (!stored) return;
  try {
    remember({ token: stored.token, person: await patch("/api/me", { language: next }) });
  } catch {
    // Not saved (offline, signed out meanwhile): this device still shows the chosen language.
  }
}

function header() {
  const me = session()?.person;
  const staff = me?.role === "staff";
  const reader = staff || me?.role === "leader";
  const links = me
    ? [
        ["#/", t("home")],
        me.role === "unit" ? ["#/my/handling", t("navMyHandling")] : null,
        me.role === "member" ? ["#/my/proposals", t("navMyProposals")] : null,
        me.role === "member" || me.role === "leader" ? ["#/my/drafts", t("navMyDrafts")] : null,
        staff ? ["#/review", t("navReview")] : null,
        me.role === "leader" ? ["#/my/supervised", t("navSupervised")] : null,
        ["#/calendar", t("calendar")],
        me.role !== "guest" ? ["#/my/calendar", t("myCalendar")] : null,
        staff ? ["#/schedule", t("schedule")] : null,
        me.role !== "guest" ? ["#/proposals", t("allProposals")] : null,
        ["#/follow-ups", t("followups")],
        reader || me.role === "unit" ? ["#/supervision", t("navSupervision")] : null,
        reader ? ["#/stats", t("stats")] : null,
        reader ? ["#/selections", t("navSelections")] : me.role === "member" ? ["#/my/reviews", t("navMyReviews")] : null,
        ...staffLinks(me),
      ].filter(Boolean)
    : [];
  watchNotices();
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
      me ? bell() : null,
      me ? h("span", { class: "muted" }, me.name) : null,
      h("button", { class: "link", type: "button", lang: lang === "en" ? "zh-CN" : "en", onclick: switchLanguage }, t("lang")),
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
  const mine = nextTicket();
  const where = route();
  const open = new Set(["login", "join", "hall"]);
  if (!session() && !open.has(where.page)) {
    toSignIn();
    return;
  }
  header();
  const main = document.getElementById("main");
  if (!(where.page in PAGES)) {
    mount(main, notFound(t("notFound")));
    return;
  }
  mount(main, loadingState());
  try {
    const module = await PAGES[where.page]();
    // Another page was asked for while this one's module loaded: that one draws, not this.
    // (A page's loadPage takes the ticket current when it starts, so it must not start late.)
    if (!isCurrent(mine)) return;
    const cleanup = await module.show(main, where);
    if (isCurrent(mine)) leave = cleanup || null;
    else if (cleanup) cleanup();
  } catch (error) {
    if (isCurrent(mine)) mount(main, errorState(error, render));
  }
  if (isCurrent(mine)) main.focus({ preventScroll: true });
}

// Who is signed in, fresh from the server once per page load: a name or role staff changed
// since shows at once, and a deactivated account or revoked token goes back to sign-in.
async function refreshMe() {
  const stored = session();
  if (!stored) return;
  try {
    remember({ token: stored.token, person: await get("/api/me") });
    header();
  } catch (error) {
    if (error.status === 401) toSignIn();
  }
}

window.addEventListener("hashchange", render);
render();
refreshMe();
