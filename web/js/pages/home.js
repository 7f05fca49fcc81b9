// What concerns the signed-in person: upcoming sessions (answer the invitation here), their
// proposals with status and consultation badges, and open action items.
import { get, post, session } from "../api.js";
import { t } from "../i18n.js";
import { loadPage } from "../page.js";
import { attempt, badge, empty, fmt, h, mount, section, titled, toast } from "../ui.js";

export async function show(main) {
  // Through loadPage: a reader who moves on before the lists arrive keeps the page they went to.
  return loadPage(main, load, draw(main));
}

function load() {
  const me = session().person;
  const now = new Date();
  const later = new Date(now.getTime() + 60 * 86400_000);
  return Promise.all([
    get(`/api/sessions?from=${encodeURIComponent(now.toISOString())}&to=${encodeURIComponent(later.toISOString())}&limit=50`),
    me.role === "guest" ? { items: [] } : get("/api/proposals?limit=50").catch(() => ({ items: [] })),
    me.role === "guest" ? { items: [] } : get("/api/follow-ups?status=open&limit=50").catch(() => ({ items: [] })),
  ]);
}

const draw = (main) => ([sessions, proposals, actions]) => {
  const me = session().person;
  mount(
    main,
    h("h1", {}, `${me.name}`),
    h(
      "div",
      { class: "grid" },
      section(t("upcoming"), sessions.items.length ? h("ul", { class: "list" }, sessions.items.map((s) => sessionRow(s, me))) : empty()),
      section(t("proposals"), proposals.items.length ? h("ul", { class: "list" }, proposals.items.map(proposalRow)) : empty()),
      section(t("actions"), actions.items.length ? h("ul", { class: "list" }, actions.items.map(actionRow)) : empty()),
    ),
  );
};

function sessionRow(s, me) {
  const mine = s.participants.find((p) => p.person_id === me.id);
  const state = mine ? badge(t(`rsvp_${mine.rsvp}`), mine.rsvp) : null;
  const answer = async (value) => {
    await attempt(async () => {
      await post(`/api/sessions/${s.id}/rsvp`, { answer: value });
      state.textContent = t(`rsvp_${value}`);
      state.className = `badge ${value}`;
      toast(t(`rsvp_${value}`));
    });
  };
  return h(
    "li",
    { class: "row" },
    h("div", {}, h("a", { href: `#/sessions/${s.id}` }, s.title), h("div", { class: "muted" }, fmt.span(s.starts_at, s.ends_at), " · ", t(`kind_${s.kind}`))),
    mine
      ? h(
          "div",
          { class: "actions" },
          state,
          ["accepted", "tentative", "declined"].map((v) =>
            h("button", { type: "button", class: "small", onclick: () => answer(v) }, t(v === "accepted" ? "accept" : v === "declined" ? "decline" : "tentative")),
          ),
        )
      : null,
  );
}

function proposalRow(p) {
  const c = p.compliance;
  return h(
    "li",
    { class: "row" },
    h("div", {}, h("a", { href: `#/proposals/${p.id}` }, titled(p))),
    h(
      "div",
      { class: "actions" },
      badge(t(`status_${p.status}`), "status"),
      c.missing.length ? badge(t("missing", { stages: c.missing.map((m) => t(`stage_${m}`)).join("、") }), "warn") : c.required.length ? badge(t("ok"), "good") : null,
    ),
  );
}

function actionRow(f) {
  return h(
    "li",
    { class: "row" },
    h("div", {}, f.text, f.due ? h("div", { class: "muted" }, `${t("due")} ${f.due}`) : null),
    f.overdue ? badge(t("overdue"), "warn") : null,
  );
}
