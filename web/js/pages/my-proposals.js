// 我的提案: a member's own proposals with their state, the consultation stages held and missing,
// the units' replies with their files, and whether a reply waits for the member's evaluation
// (the form is on the proposal's page).
import { get, session } from "../api.js";
import { outcomeLine } from "../drafting.js";
import { abilities, fileList, stageWords, verdictBadge } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import { badge, fmt, h, mount, titled } from "../ui.js";

addTexts({
  "zh-CN": {
    myProposals: "我的提案", mpNone: "您还没有提案。", mpHeld: "已开展的协商", mpNoReply: "尚未答复。",
    mpEvaluateNow: "评价第 {n} 轮答复", mpHeldCount: "{stage} {n} 次", mpLatest: "第 {n} 轮答复 · {date}",
  },
  en: {
    myProposals: "My proposals", mpNone: "You have no proposals yet.", mpHeld: "Consultations held", mpNoReply: "No reply yet.",
    mpEvaluateNow: "Evaluate the reply of round {n}", mpHeldCount: "{stage}: {n}", mpLatest: "Reply of round {n} · {date}",
  },
});

// ---------------------------------------------------------------- model

const MOST = 50; // proposals whose replies are loaded (a member has a handful a year)

class MyProposalsModel {
  constructor() {
    this.me = session()?.person;
    this.items = []; // [{proposal, handling}]
  }

  async load() {
    const list = await get(`/api/proposals?limit=${MOST}`);
    const mine = list.items.filter((p) => p.status !== "draft" && p.proposers.some((x) => x.id === this.me.id));
    const handled = await Promise.all(mine.map((p) => get(`/api/proposals/${p.id}/handling`)));
    this.items = mine.map((proposal, i) => ({ proposal, handling: handled[i] }));
    return this;
  }

  mayEvaluate(item) {
    return abilities(item.proposal, item.handling, this.me).evaluate;
  }
}

// ---------------------------------------------------------------- view

export async function show(main) {
  if (session()?.person?.role !== "member") {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new MyProposalsModel();
  return loadPage(main, () => model.load(), () => draw(main, model));
}

function draw(main, model) {
  mount(main, h("h1", {}, t("myProposals")), model.items.length ? model.items.map((item) => card(model, item)) : h("section", { class: "card" }, h("p", { class: "muted" }, t("mpNone"))));
}

function card(model, { proposal: p, handling }) {
  const c = p.compliance;
  return h(
    "section",
    { class: "card", dataset: { proposal: p.id }, "aria-labelledby": `mp-${p.id}` },
    h(
      "div",
      { class: "row" },
      h("h2", { id: `mp-${p.id}` }, h("a", { href: `#/proposals/${p.id}` }, titled(p))),
      h("div", { class: "actions" }, badge(t(`status_${p.status}`), "status"), p.round > 1 ? badge(t("round", { n: p.round }), "warn") : null, p.evaluation ? verdictBadge(p.evaluation) : null),
    ),
    outcomeLine(p),
    h(
      "p",
      {},
      h("span", { class: "muted" }, `${t("mpHeld")}：`),
      ["before", "during", "after"].map((s) => `${t("mpHeldCount", { stage: t(`stage_${s}`), n: c[s] })}　`),
      c.missing.length ? badge(t("missing", { stages: stageWords(c.missing) }), "warn") : c.required.length ? badge(t("ok"), "good") : null,
    ),
    handling.replies.length
      ? handling.replies.map((r) =>
          h(
            "div",
            { class: "reply" },
            h("h3", {}, t("mpLatest", { n: r.round, date: fmt.date(r.at) })),
            h("p", { class: "prose" }, r.text),
            r.attachments.length ? fileList(r.attachments) : null,
          ),
        )
      : h("p", { class: "muted" }, t("mpNoReply")),
    model.mayEvaluate({ proposal: p, handling }) ? h("a", { class: "button primary", href: `#/proposals/${p.id}` }, t("mpEvaluateNow", { n: p.round })) : null,
  );
}
