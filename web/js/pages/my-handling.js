// 我的承办: a unit's workspace. What is overdue (replies past their deadline, follow-ups past
// their date, consultation stages the rule requires and the proposal lacks), the supervision
// rounds (两轮督办) waiting for the unit's reports, the proposals assigned to the unit (lead or co) with
// the unit's next step, and the follow-ups (督办) the unit owns, to report done, with their history.
import { get, session } from "../api.js";
import { abilities, doneForm, followUpBadge, followUpHistory, loadHandling, stageWords } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import { badge, dayOf, empty, h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    myHandling: "我的承办", mhOverdue: "已逾期", mhNothingOverdue: "没有逾期事项。",
    mhAssigned: "承办的提案", mhFollowUps: "督办事项", mhDone: "已办结的督办",
    mhLead: "主办", mhCo: "协办", mhRole: "承办方式", mhNext: "下一步", mhStages: "协商阶段",
    mhStageOverdue: "{number} {title}：缺少{stages}协商", mhFollowUpOverdue: "{text}（时限 {due}）",
    mhNextAssigned: "开始办理", mhNextHandling: "答复提案", mhNextReplied: "等待提案人评价",
    mhNextEvaluated: "已评价", mhNextRate: "评价提案质量", mhNextCo: "向主办单位提交协办意见", mhNextNone: "—",
    mhReplyDue: "答复期限", mhReplyOverdue: "{number} {title}：答复已逾期（期限 {due}）", mhNoDue: "无时限", mhDue: "完成时限：{due}", mhProposal: "提案",
    mhRounds: "督办轮次待报告", mhRoundLine: "{year} {name}：已报告 {reported}/{items}，{ends} 前报告",
  },
  en: {
    myHandling: "My handling", mhOverdue: "Overdue", mhNothingOverdue: "Nothing is overdue.",
    mhAssigned: "Proposals assigned to the unit", mhFollowUps: "Follow-up items", mhDone: "Follow-ups done",
    mhLead: "Lead", mhCo: "Co-handling", mhRole: "As", mhNext: "Next step", mhStages: "Consultation",
    mhStageOverdue: "{number} {title}: no {stages} consultation yet", mhFollowUpOverdue: "{text} (due {due})",
    mhNextAssigned: "Start handling", mhNextHandling: "Reply to the proposal", mhNextReplied: "Awaiting the proposer's evaluation",
    mhNextEvaluated: "Evaluated", mhNextRate: "Rate the proposal's quality", mhNextCo: "Send your opinion to the lead unit", mhNextNone: "—",
    mhReplyDue: "Reply due", mhReplyOverdue: "{number} {title}: reply overdue (due {due})", mhNoDue: "No due date", mhDue: "Due {due}", mhProposal: "Proposal",
    mhRounds: "Supervision rounds to report on", mhRoundLine: "{year} {name}: {reported}/{items} reported, report by {ends}",
  },
});

// ---------------------------------------------------------------- model

const REPLIED = new Set(["replied", "evaluated", "closed"]);

class HandlingModel {
  constructor() {
    this.me = session()?.person;
    this.proposals = [];
    this.followUps = [];
    this.rounds = [];
    this.handling = new Map(); // proposal id → its handling, for those the unit has replied to
  }

  async load() {
    const [proposals, followUps, rounds] = await Promise.all([get("/api/proposals?limit=500"), get("/api/follow-ups?limit=500"), get("/api/supervision-rounds")]);
    this.proposals = proposals.items;
    // Open supervision rounds with items of this unit (两轮督办), to report on.
    this.rounds = rounds.items.filter((r) => !r.closed && r.progress.items > 0);
    this.followUps = followUps.items;
    // Whether the unit still owes a quality rating: only replied proposals it leads can.
    const replied = this.proposals.filter((p) => this.isLead(p) && REPLIED.has(p.status));
    const handled = await Promise.all(replied.map((p) => loadHandling(p.id)));
    this.handling = new Map(replied.map((p, i) => [p.id, handled[i]]));
    return this;
  }

  isLead(p) {
    return p.lead_unit_id === this.me.unit_id;
  }

  // Proposals being handled come first, those waiting for the unit before the rest.
  get assigned() {
    const order = { assigned: 0, handling: 1, replied: 2, evaluated: 3, closed: 4 };
    return this.proposals.filter((p) => p.status in order).sort((a, b) => order[a.status] - order[b.status] || (a.number || "").localeCompare(b.number || ""));
  }

  get open() {
    return this.followUps.filter((f) => f.status === "open");
  }

  get closed() {
    return this.followUps.filter((f) => f.status !== "open");
  }

  // The reply's deadline (交办 sets `reply_due`), where the server gives one.
  get hasReplyDue() {
    return this.proposals.some((p) => p.reply_due);
  }

  replyOverdue(p) {
    return Boolean(p.reply_due) && (p.status === "assigned" || p.status === "handling") && p.reply_due < dayOf(new Date());
  }

  get overdueReplies() {
    return this.assigned.filter((p) => this.isLead(p) && this.replyOverdue(p));
  }

  get overdueFollowUps() {
    return this.open.filter((f) => f.overdue);
  }

  get missingStages() {
    return this.assigned.filter((p) => p.compliance.missing.length);
  }

  proposal(id) {
    return this.proposals.find((p) => p.id === id);
  }

  nextStep(p) {
    const handled = this.handling.get(p.id);
    if (handled && abilities(p, handled, this.me).rate) return t("mhNextRate");
    if (!this.isLead(p)) return t(p.status === "handling" || p.status === "assigned" ? "mhNextCo" : "mhNextNone");
    return t({ assigned: "mhNextAssigned", handling: "mhNextHandling", replied: "mhNextReplied", evaluated: "mhNextEvaluated" }[p.status] || "mhNextNone");
  }
}

// ---------------------------------------------------------------- view

export async function show(main) {
  if (session()?.person?.role !== "unit") {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new HandlingModel();
  return loadPage(main, () => model.load(), () => draw(main, model));
}

function draw(main, model) {
  const done = async (message) => {
    await loadPage(main, () => model.load(), () => draw(main, model));
    toast(message);
  };
  mount(
    main,
    h("h1", {}, t("myHandling")),
    overdue(model),
    model.rounds.length ? section(t("mhRounds"), h("ul", { class: "list" }, model.rounds.map((r) => h("li", { dataset: { round: r.id } }, h("a", { href: `#/supervision/${r.id}` }, t("mhRoundLine", { year: r.year, name: r.name, reported: r.progress.reported, items: r.progress.items, ends: r.ends_on })), r.progress.reported < r.progress.items ? [" ", badge(String(r.progress.items - r.progress.reported), "warn")] : null)))) : null,
    section(t("mhAssigned"), model.assigned.length ? proposalTable(model) : empty()),
    section(t("mhFollowUps"), model.open.length ? h("ul", { class: "list" }, model.open.map((f) => followUpItem(model, f, done))) : empty()),
    model.closed.length ? section(t("mhDone"), h("ul", { class: "list" }, model.closed.map((f) => followUpItem(model, f, done)))) : null,
  );
}

function overdue(model) {
  const items = [
    ...model.overdueReplies.map((p) => h("li", { class: "overdue" }, h("a", { href: `#/proposals/${p.id}` }, t("mhReplyOverdue", { number: p.number, title: p.title, due: p.reply_due })))),
    ...model.overdueFollowUps.map((f) => h("li", { class: "overdue" }, t("mhFollowUpOverdue", { text: f.text, due: f.due }))),
    ...model.missingStages.map((p) => h("li", {}, h("a", { href: `#/proposals/${p.id}` }, t("mhStageOverdue", { number: p.number, title: p.title, stages: stageWords(p.compliance.missing) })))),
  ];
  return h(
    "section",
    { class: `card${items.length ? " overdue-card" : ""}`, "aria-labelledby": "mh-overdue" },
    h("h2", { id: "mh-overdue" }, t("mhOverdue"), " ", items.length ? badge(String(items.length), "warn") : null),
    items.length ? h("ul", { class: "due-list" }, items) : h("p", { class: "muted" }, t("mhNothingOverdue")),
  );
}

function proposalTable(model) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "stack" },
      h("thead", {}, h("tr", {}, [t("proposalNo"), t("mhProposal"), t("mhRole"), t("proposalState"), t("mhNext"), model.hasReplyDue ? t("mhReplyDue") : null, t("mhStages")].filter(Boolean).map((x) => h("th", { scope: "col" }, x)))),
      h(
        "tbody",
        {},
        model.assigned.map((p) =>
          h(
            "tr",
            { dataset: { proposal: p.id } },
            h("td", { dataset: { label: t("proposalNo") } }, p.number),
            h("td", { dataset: { label: t("mhProposal") } }, h("a", { href: `#/proposals/${p.id}` }, p.title), p.key ? [" ", badge(t("keyProposal"), "warn")] : null),
            h("td", { dataset: { label: t("mhRole") } }, model.isLead(p) ? t("mhLead") : t("mhCo")),
            h("td", { dataset: { label: t("proposalState") } }, badge(t(`status_${p.status}`), "status"), p.round > 1 ? [" ", badge(t("round", { n: p.round }), "warn")] : null),
            h("td", { dataset: { label: t("mhNext") } }, model.nextStep(p)),
            model.hasReplyDue ? h("td", { dataset: { label: t("mhReplyDue") } }, p.reply_due || "—", model.replyOverdue(p) ? [" ", badge(t("overdue"), "warn")] : null) : null,
            h("td", { dataset: { label: t("mhStages") } }, p.compliance.missing.length ? badge(t("missing", { stages: stageWords(p.compliance.missing) }), "warn") : p.compliance.required.length ? badge(t("ok"), "good") : "—"),
          ),
        ),
      ),
    ),
  );
}

function followUpItem(model, f, done) {
  const p = f.proposal_id ? model.proposal(f.proposal_id) : null;
  return h(
    "li",
    { id: `follow-up-${f.id}`, dataset: { followUp: f.id } },
    h("div", { class: "row" }, h("b", {}, f.text), followUpBadge(f)),
    h("div", { class: "muted" }, f.due ? t("mhDue", { due: f.due }) : t("mhNoDue"), p ? [" · ", h("a", { href: `#/proposals/${p.id}` }, `${p.number} ${p.title}`)] : null),
    followUpHistory(f),
    f.status === "open" ? doneForm(f, done) : null,
  );
}
