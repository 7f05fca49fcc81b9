// Follow-up (督办): action items of approved minutes, soonest due first, each with its state in
// words and its history; the owner unit reports an item done with a note.
import { get, post, session } from "../api.js";
import { doneForm, followUpBadge, followUpHistory } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { badge, empty, h, mount, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    fuOnlyOverdue: "只看逾期", fuAll: "全部", fuDue: "完成时限：{due}", fuNoDue: "无时限", fuProposal: "相关提案",
    fuRemind: "立即发送逾期提醒", fuReminded: "已向 {n} 个逾期事项的责任单位发送提醒邮件。",
    fuRemindHint: "系统每小时自动提醒一次，同一事项每天最多一封。", fuInstruction: "领导批示",
  },
  en: {
    fuOnlyOverdue: "Overdue only", fuAll: "All", fuDue: "Due {due}", fuNoDue: "No due date", fuProposal: "Proposal",
    fuRemind: "Send overdue reminders now", fuReminded: "Reminders emailed to the owner units of {n} overdue items.",
    fuRemindHint: "The server reminds hourly by itself, at most one email per item a day.", fuInstruction: "Leader's instruction",
  },
});

// ---------------------------------------------------------------- model

class FollowUpsModel {
  constructor(overdue) {
    this.me = session()?.person;
    this.overdue = overdue;
    this.items = [];
  }

  async load() {
    const list = await get(`/api/follow-ups?limit=500${this.overdue ? "&overdue=true" : ""}`);
    this.items = list.items;
    return this;
  }

  // Staff email the owner units of overdue items now (the server does it hourly anyway).
  async remind() {
    return (await post("/api/follow-ups/reminders")).reminded;
  }

  mayReportDone(f) {
    const owner = this.me?.role === "unit" && this.me.unit_id === f.owner_unit_id;
    return f.status === "open" && (owner || this.me?.role === "staff");
  }
}

// ---------------------------------------------------------------- view

export async function show(main, where) {
  const model = new FollowUpsModel(where.query.get("overdue") === "true");
  const draw = () => {
    const done = async (message) => {
      await loadPage(main, () => model.load(), draw);
      toast(message);
    };
    const filter = (overdue, label) => h("a", { class: `button${model.overdue === overdue ? " active" : ""}`, href: overdue ? "#/follow-ups?overdue=true" : "#/follow-ups", "aria-current": model.overdue === overdue ? "true" : null }, label);
    mount(
      main,
      h("div", { class: "toolbar" }, h("h1", {}, t("followups")), h("div", { class: "actions" }, filter(false, t("fuAll")), filter(true, t("fuOnlyOverdue")), remindButton(model))),
      model.items.length ? h("section", { class: "card" }, h("ul", { class: "list" }, model.items.map((f) => item(model, f, done)))) : h("section", { class: "card" }, empty()),
    );
  };
  return loadPage(main, () => model.load(), draw);
}

function remindButton(model) {
  if (model.me?.role !== "staff") return null;
  const button = h("button", { type: "button", title: t("fuRemindHint") }, t("fuRemind"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      toast(t("fuReminded", { n: await model.remind() }));
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function item(model, f, done) {
  return h(
    "li",
    { dataset: { followUp: f.id } },
    h("div", { class: "row" }, h("b", {}, f.instruction_id ? [badge(t("fuInstruction"), "pending"), " "] : null, f.text), followUpBadge(f)),
    h("div", { class: "muted" }, f.due ? t("fuDue", { due: f.due }) : t("fuNoDue"), f.proposal_id ? [" · ", h("a", { href: `#/proposals/${f.proposal_id}` }, t("fuProposal"))] : null),
    followUpHistory(f),
    model.mayReportDone(f) ? doneForm(f, done) : null,
  );
}
