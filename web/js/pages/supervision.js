// 两轮督办: supervision rounds. #/supervision lists the rounds with their progress (staff open a
// new one there: it takes every open follow-up and every overdue reply as they are at that
// moment); #/supervision/{id} shows a round's items, overdue replies first, each with its
// owner unit's report. A unit sees and reports on its own items; staff close or reopen the
// round and, with leaders, export its report (.docx).
import { download, get, patch, post, session } from "../api.js";
import { fieldBox, submitting } from "../form-errors.js";
import { actionForm, field } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import { badge, fmt, h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    suTitle: "两轮督办", suNew: "开启督办轮次", suName: "名称", suYear: "年度", suStarts: "开始日期", suEnds: "报告截止日期",
    suNameHint: "例如“年中督办”“年底督办”。开启时列入所有未完成的督办事项和逾期未答复的提案。",
    suCreate: "开启", suCreated: "已开启“{name}”，列入 {n} 项", suNone: "还没有督办轮次。",
    suRounds: "督办轮次", suDates: "{from} 至 {to}", suProgress: "已报告 {reported}/{items}",
    suOpen: "进行中", suClosed: "已结束", suClose: "结束本轮", suReopen: "重新开启", suClosedNow: "本轮已结束，不再接受报告",
    suReopened: "本轮已重新开启", suExport: "导出报告 .docx",
    suReplies: "逾期未答复的提案", suFollowUps: "未完成的督办事项", suNoItems: "没有事项。",
    suItems: "事项", suReported: "已报告", suDone: "已落实", suInProgress: "正在落实", suDelayed: "未能按期落实", suUnreported: "未报告",
    suOwner: "责任单位：{unit}", suNoOwner: "未指定责任单位", suDue: "时限 {due}", suProposal: "提案 {title}",
    suReport: "报告办理情况", suStatus: "办理情况", suText: "情况说明", suSend: "提交报告", suSent: "报告已提交",
    suReportedAt: "{at} 报告", suMine: "本单位事项：已报告 {reported}/{items}", suReplyItem: "答复已逾期",
    rs_done: "已落实", rs_in_progress: "正在落实", rs_delayed: "未能按期落实",
  },
  en: {
    suTitle: "Supervision rounds", suNew: "Open a supervision round", suName: "Name", suYear: "Year", suStarts: "Starts on", suEnds: "Reports due by",
    suNameHint: "E.g. “Mid-year” or “Year-end”. It takes every open follow-up and every overdue reply as they are now.",
    suCreate: "Open", suCreated: "“{name}” opened with {n} items", suNone: "No supervision round yet.",
    suRounds: "Rounds", suDates: "{from} to {to}", suProgress: "{reported}/{items} reported",
    suOpen: "Open", suClosed: "Closed", suClose: "Close the round", suReopen: "Reopen", suClosedNow: "The round is closed to reports",
    suReopened: "The round is open again", suExport: "Export the report (.docx)",
    suReplies: "Overdue replies", suFollowUps: "Open follow-ups", suNoItems: "No items.",
    suItems: "Items", suReported: "Reported", suDone: "Done", suInProgress: "In progress", suDelayed: "Delayed", suUnreported: "Not reported",
    suOwner: "Owner: {unit}", suNoOwner: "No owner unit", suDue: "due {due}", suProposal: "Proposal {title}",
    suReport: "Report on this item", suStatus: "Where it stands", suText: "Details", suSend: "Send the report", suSent: "Report sent",
    suReportedAt: "reported {at}", suMine: "Your unit's items: {reported}/{items} reported", suReplyItem: "Reply overdue",
    rs_done: "Done", rs_in_progress: "In progress", rs_delayed: "Delayed",
  },
});

const STATUSES = ["done", "in_progress", "delayed"];
const STATUS_KIND = { done: "good", in_progress: "pending", delayed: "warn" };

// ---------------------------------------------------------------- model

class SupervisionModel {
  constructor(id) {
    this.id = id;
    this.me = session()?.person;
    this.rounds = [];
    this.round = null;
  }

  get staff() {
    return this.me?.role === "staff";
  }

  get reader() {
    return this.staff || this.me?.role === "leader";
  }

  async load() {
    if (this.id) this.round = await get(`/api/supervision-rounds/${this.id}`);
    else this.rounds = (await get("/api/supervision-rounds")).items;
    return this;
  }

  create(body) {
    return post("/api/supervision-rounds", body);
  }

  close(closed) {
    return patch(`/api/supervision-rounds/${this.id}`, { closed });
  }

  report(item, status, text) {
    return post(`/api/supervision-rounds/${this.id}/items/${item.id}/report`, { status, text });
  }

  exportDocx() {
    return download(`/api/supervision-rounds/${this.id}/report.docx`, `supervision-${this.id}.docx`);
  }

  mayReport(item) {
    if (this.round.closed) return false;
    return this.staff || (this.me?.role === "unit" && this.me.unit_id === item.owner_unit_id);
  }
}

// ---------------------------------------------------------------- view

export async function show(main, where) {
  const role = session()?.person?.role;
  if (!["staff", "leader", "unit"].includes(role)) {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new SupervisionModel(where.id);
  const draw = () => (model.id ? drawRound(main, model, refresh) : drawList(main, model, refresh));
  const refresh = async (message) => {
    await loadPage(main, () => model.load(), draw);
    if (message) toast(message);
  };
  return loadPage(main, () => model.load(), draw);
}

function progressBadges(g) {
  return [
    badge(t("suProgress", { reported: g.reported, items: g.items }), g.reported === g.items ? "good" : "pending"),
    g.delayed ? [" ", badge(`${t("suDelayed")} ${g.delayed}`, "warn")] : null,
  ];
}

function drawList(main, model, refresh) {
  mount(
    main,
    h("h1", {}, t("suTitle")),
    model.staff ? createForm(model, refresh) : null,
    section(
      t("suRounds"),
      model.rounds.length
        ? h(
            "ul",
            { class: "list rounds" },
            model.rounds.map((r) =>
              h(
                "li",
                { dataset: { round: r.id } },
                h("div", { class: "row" }, h("a", { href: `#/supervision/${r.id}` }, h("b", {}, `${r.year} ${r.name}`)), badge(t(r.closed ? "suClosed" : "suOpen"), r.closed ? "" : "good")),
                h("div", { class: "muted" }, t("suDates", { from: r.starts_on, to: r.ends_on }), " · ", model.me.role === "unit" ? t("suMine", r.progress) : progressBadges(r.progress)),
              ),
            ),
          )
        : h("p", { class: "muted" }, t("suNone")),
    ),
  );
}

function createForm(model, refresh) {
  const year = new Date().getFullYear();
  const name = h("input", { name: "name", required: true, maxlength: 100, list: "round-names" });
  const names = h("datalist", { id: "round-names" }, h("option", { value: "年中督办" }), h("option", { value: "年底督办" }));
  const yearInput = h("input", { name: "year", type: "number", min: 2000, max: 2100, value: year, required: true });
  const starts = h("input", { name: "starts_on", type: "date", required: true });
  const ends = h("input", { name: "ends_on", type: "date", required: true });
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("suNew") },
    h("div", { class: "cols" }, fieldBox("name", t("suName"), name, t("suNameHint")), fieldBox("year", t("suYear"), yearInput), fieldBox("starts_on", t("suStarts"), starts), fieldBox("ends_on", t("suEnds"), ends)),
    names,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("suCreate"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), year: Number(yearInput.value), starts_on: starts.value || null, ends_on: ends.value || null };
    const made = await submitting(form, () => model.create(body));
    if (made) await refresh(t("suCreated", { name: made.name, n: made.progress.items }));
  });
  return section(t("suNew"), form);
}

function drawRound(main, model, refresh) {
  const r = model.round;
  const replies = r.items.filter((i) => i.kind === "reply");
  const follow = r.items.filter((i) => i.kind === "follow_up");
  const closeButton = model.staff
    ? h("button", { type: "button", onclick: async () => {
        try {
          await model.close(!r.closed);
          await refresh(t(r.closed ? "suReopened" : "suClosedNow"));
        } catch (error) {
          toast(error.message);
        }
      } }, t(r.closed ? "suReopen" : "suClose"))
    : null;
  const exportButton = model.reader ? h("button", { type: "button", onclick: () => model.exportDocx().catch((e) => toast(e.message)) }, t("suExport")) : null;
  const g = r.progress;
  mount(
    main,
    h("div", { class: "toolbar" }, h("h1", {}, `${r.year} ${r.name} `, badge(t(r.closed ? "suClosed" : "suOpen"), r.closed ? "" : "good")), h("div", { class: "actions" }, exportButton, closeButton)),
    h("p", { class: "muted" }, t("suDates", { from: r.starts_on, to: r.ends_on })),
    h(
      "div",
      { class: "kpis", role: "group", "aria-label": t("suProgress", g) },
      [[t("suItems"), g.items], [t("suReported"), g.reported], [t("suDone"), g.done], [t("suInProgress"), g.in_progress], [t("suDelayed"), g.delayed], [t("suUnreported"), g.items - g.reported]].map(([label, n]) => h("div", { class: "kpi" }, h("b", {}, String(n)), label)),
    ),
    section(t("suReplies"), replies.length ? itemList(model, replies, refresh) : h("p", { class: "muted" }, t("suNoItems"))),
    section(t("suFollowUps"), follow.length ? itemList(model, follow, refresh) : h("p", { class: "muted" }, t("suNoItems"))),
  );
}

function itemList(model, items, refresh) {
  return h(
    "ul",
    { class: "list round-items" },
    items.map((i) =>
      h(
        "li",
        { dataset: { item: i.id, kind: i.kind } },
        h("div", { class: "row" }, h("b", {}, i.kind === "reply" ? [badge(t("suReplyItem"), "warn"), " "] : null, i.proposal_id && i.kind === "reply" ? h("a", { href: `#/proposals/${i.proposal_id}` }, i.text) : i.text), i.report_status ? badge(t(`rs_${i.report_status}`), STATUS_KIND[i.report_status]) : badge(t("suUnreported"))),
        h(
          "div",
          { class: "muted" },
          i.owner_unit ? t("suOwner", { unit: i.owner_unit }) : t("suNoOwner"),
          i.due ? ` · ${t("suDue", { due: i.due })}` : "",
          // A unit may own a follow-up of a proposal it does not handle: then no link to it.
          i.kind === "follow_up" && i.proposal_id ? [" · ", model.reader ? h("a", { href: `#/proposals/${i.proposal_id}` }, t("suProposal", { title: i.proposal })) : t("suProposal", { title: i.proposal })] : null,
        ),
        i.report_text ? h("p", { class: "prose" }, i.report_text, " ", h("small", { class: "muted" }, t("suReportedAt", { at: fmt.dateTime(i.reported_at) }))) : null,
        model.mayReport(i) ? reportForm(model, i, refresh) : null,
      ),
    ),
  );
}

let radios = 0;
function reportForm(model, item, refresh) {
  radios += 1;
  const name = `report-${radios}`;
  const choices = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, t("suStatus")),
    STATUSES.map((s, n) => h("label", { class: "check" }, h("input", { type: "radio", name, value: s, required: n === 0, checked: item.report_status === s }), t(`rs_${s}`))),
  );
  const text = h("textarea", { name: "text", rows: 3, required: true, maxlength: 5000 });
  text.value = item.report_text || "";
  return actionForm(
    `${t("suReport")}：${item.text}`,
    [choices, field(t("suText"), text)],
    t("suSend"),
    async () => {
      await model.report(item, choices.querySelector("input:checked").value, text.value);
      await refresh(t("suSent"));
    },
    "inline",
  );
}
