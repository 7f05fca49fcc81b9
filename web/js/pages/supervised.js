// A leader's key proposals (重点提案): those the leader leads (领办) and those the leader
// supervises (督办), with their state and consultation stages, and the overdue follow-ups of
// those proposals; the statistics and the supervision rounds are a link away.
import { get, session } from "../api.js";
import { followUpBadge, stageWords } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import { badge, h, mount, section } from "../ui.js";

addTexts({
  "zh-CN": {
    supervised: "重点提案督办", svMine: "我督办的重点提案", svNone: "您目前没有督办的重点提案。",
    svOverdue: "逾期的督办事项", svNoOverdue: "没有逾期的督办事项。", svDue: "时限 {due}",
    svStats: "查看统计", svUnit: "主办单位",
    svLed: "我领办的重点提案", svNoLed: "您目前没有领办的重点提案。可在重点提案页面点击“领办此提案”。", svRounds: "两轮督办",
  },
  en: {
    supervised: "Key proposals", svMine: "Key proposals I supervise", svNone: "You supervise no key proposal now.",
    svOverdue: "Overdue follow-ups", svNoOverdue: "No follow-up is overdue.", svDue: "due {due}",
    svStats: "Statistics", svUnit: "Lead unit",
    svLed: "Key proposals I lead", svNoLed: "You lead no key proposal now. Choose “Lead this proposal” on a key proposal's page.", svRounds: "Supervision rounds",
  },
});

// ---------------------------------------------------------------- model

class SupervisedModel {
  constructor() {
    this.me = session()?.person;
    this.proposals = [];
    this.led = [];
    this.overdue = [];
    this.units = new Map();
  }

  async load() {
    const [key, overdue, units] = await Promise.all([
      get("/api/proposals?key=true&limit=500"),
      get("/api/follow-ups?overdue=true&limit=500"),
      get("/api/units").catch(() => ({ items: [] })),
    ]);
    this.proposals = key.items.filter((p) => p.supervisor_id === this.me.id);
    this.led = key.items.filter((p) => p.leader_id === this.me.id);
    const mine = new Set([...this.proposals, ...this.led].map((p) => p.id));
    this.overdue = overdue.items.filter((f) => mine.has(f.proposal_id));
    this.units = new Map(units.items.map((u) => [u.id, u.name]));
    return this;
  }

  proposal(id) {
    return [...this.proposals, ...this.led].find((p) => p.id === id);
  }

  unitName(id) {
    return this.units.get(id) || "—";
  }
}

// ---------------------------------------------------------------- view

export async function show(main) {
  if (session()?.person?.role !== "leader") {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new SupervisedModel();
  return loadPage(main, () => model.load(), () => draw(main, model));
}

function draw(main, model) {
  mount(
    main,
    h("div", { class: "toolbar" }, h("h1", {}, t("supervised")), h("div", { class: "actions" }, h("a", { class: "button", href: "#/supervision" }, t("svRounds")), h("a", { class: "button", href: "#/stats" }, t("svStats")))),
    section(t("svOverdue"), model.overdue.length ? h("ul", { class: "list" }, model.overdue.map((f) => overdueItem(model, f))) : h("p", { class: "muted" }, t("svNoOverdue"))),
    h("div", { dataset: { led: "" } }, section(t("svLed"), model.led.length ? table(model, model.led) : h("p", { class: "muted" }, t("svNoLed")))),
    section(t("svMine"), model.proposals.length ? table(model, model.proposals) : h("p", { class: "muted" }, t("svNone"))),
  );
}

function overdueItem(model, f) {
  const p = model.proposal(f.proposal_id);
  return h(
    "li",
    { dataset: { followUp: f.id } },
    h("div", { class: "row" }, h("b", {}, f.text), followUpBadge(f)),
    h("div", { class: "muted" }, t("svDue", { due: f.due }), " · ", model.unitName(f.owner_unit_id), p ? [" · ", h("a", { href: `#/proposals/${p.id}` }, `${p.number} ${p.title}`)] : null),
  );
}

function table(model, proposals) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "stack" },
      h("thead", {}, h("tr", {}, [t("proposalNo"), t("title"), t("svUnit"), t("proposalState"), t("compliance")].map((x) => h("th", { scope: "col" }, x)))),
      h(
        "tbody",
        {},
        proposals.map((p) =>
          h(
            "tr",
            { dataset: { proposal: p.id } },
            h("td", { dataset: { label: t("proposalNo") } }, p.number),
            h("td", { dataset: { label: t("title") } }, h("a", { href: `#/proposals/${p.id}` }, p.title)),
            h("td", { dataset: { label: t("svUnit") } }, model.unitName(p.lead_unit_id)),
            h("td", { dataset: { label: t("proposalState") } }, badge(t(`status_${p.status}`), "status"), p.evaluation ? [" ", badge(t(`verdict_${p.evaluation}`))] : null),
            h("td", { dataset: { label: t("compliance") } }, p.compliance.missing.length ? badge(t("missing", { stages: stageWords(p.compliance.missing) }), "warn") : p.compliance.required.length ? badge(t("ok"), "good") : "—"),
          ),
        ),
      ),
    ),
  );
}
