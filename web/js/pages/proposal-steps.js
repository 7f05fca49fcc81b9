// The lifecycle panel of a proposal page: the steps the reader may take from its status (the
// server says which: `proposal.steps`), a reason where one is required, the units when it is
// assigned (交办), and its history with who, when and why. Staff also get the edit link.
import { ApiError, get, patch, post, session } from "../api.js";
import { REASONS } from "../drafting.js";
import { fieldBox, groupBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { badge, fmt, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    psTitle: "办理流程", psNow: "当前状态：", psNoSteps: "当前状态下您没有可执行的步骤。", psHistory: "流转记录",
    psEdit: "修改提案信息", psReason: "理由", psReasonRequired: "理由（必填）", psReasonHint: "将记录在流转记录中",
    psConfirm: "确认", psCancel: "取消", psLead: "主办单位", psCo: "协办单位", psChoose: "（请选择）",
    psFrom: "{from} → {to}",
    step_filed: "立案", step_rejected: "不予立案", step_assigned: "交办", step_handling: "开始办理",
    step_replied: "标记为已答复", step_evaluated: "标记为已评价", step_closed: "办结", step_converted: "转为意见",
    stepHint_converted: "不作为提案办理，转为社情民意信息，须说明理由", psWhy: "不予立案的原因", psWhyMissing: "请选择不予立案的原因", psNoteMissing: "请填写理由",
    stepHint_filed: "经审查符合立案要求", stepHint_rejected: "不符合立案要求，须说明理由",
    stepHint_assigned: "交承办单位办理；答复期限按规定自交办之日起计算", stepHint_handling: "承办单位开始办理",
    stepHint_replied: "承办单位已正式答复", stepHint_evaluated: "提案人已评价办理结果", stepHint_closed: "办理结束，归档",
    psDue: "答复期限：{day}", psOverdue: "答复已逾期",
  },
  en: {
    psTitle: "Handling steps", psNow: "Now: ", psNoSteps: "There is no step you can take from this status.", psHistory: "History",
    psEdit: "Edit the proposal", psReason: "Reason", psReasonRequired: "Reason (required)", psReasonHint: "kept in the history",
    psConfirm: "Confirm", psCancel: "Cancel", psLead: "Lead unit", psCo: "Co-handling units", psChoose: "(choose)",
    psFrom: "{from} → {to}",
    step_filed: "File", step_rejected: "Reject", step_assigned: "Assign", step_handling: "Start handling",
    step_replied: "Mark replied", step_evaluated: "Mark evaluated", step_closed: "Close", step_converted: "Turn into an opinion",
    stepHint_converted: "not handled as a proposal but as an opinion (社情民意); say why", psWhy: "Why it is not filed", psWhyMissing: "Choose why it is not filed", psNoteMissing: "Say why",
    stepHint_filed: "it meets the filing rules", stepHint_rejected: "it does not; say why",
    stepHint_assigned: "hand it to its units; the reply is due within the set term from today", stepHint_handling: "the unit starts handling it",
    stepHint_replied: "the unit has replied formally", stepHint_evaluated: "the proposer has judged the handling", stepHint_closed: "handling is over; archive it",
    psDue: "Reply due: {day}", psOverdue: "Reply overdue",
  },
});

const NEEDS_REASON = new Set(["rejected", "converted"]);

// ---------------------------------------------------------------- model

async function step(proposal, to, note, units, reason) {
  if (to === "rejected" && !(reason && note)) {
    // The list's reason and the note are both asked for before anything is sent.
    const errors = [!reason && { field: "reason", message: t("psWhyMissing") }, !note && { field: "note", message: t("psNoteMissing") }].filter(Boolean);
    throw new ApiError(400, { detail: errors.map((e) => e.message).join("；"), errors });
  }
  if (units) await patch(`/api/proposals/${proposal.id}`, units);
  return post(`/api/proposals/${proposal.id}/transitions`, { to, note: note || null, ...(reason ? { reason } : {}) });
}

// Not filed (不予立案): the reason from the committee's list, required.
export function reasonField() {
  const select = h("select", { name: "reason", required: true }, h("option", { value: "" }, t("psChoose")), REASONS.map((r) => h("option", { value: r }, t(`reason_${r}`))));
  return fieldBox("reason", t("psWhy"), select);
}

const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());

// ---------------------------------------------------------------- view

function unitsFields(proposal, units) {
  const lead = h("select", { name: "lead_unit_id", required: true },
    h("option", { value: "" }, t("psChoose")),
    units.map((u) => h("option", { value: String(u.id), selected: u.id === proposal.lead_unit_id }, u.name)));
  return [
    fieldBox("lead_unit_id", t("psLead"), lead),
    groupBox("co_unit_ids", t("psCo"), units.map((u) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "co_unit_ids", value: String(u.id), checked: proposal.co_unit_ids.includes(u.id) }), u.name))),
  ];
}

function unitsOf(form) {
  const lead = Number(form.elements.lead_unit_id.value) || null;
  const co = [...form.querySelectorAll('input[name="co_unit_ids"]:checked')].map((el) => Number(el.value)).filter((u) => u !== lead);
  return { lead_unit_id: lead, co_unit_ids: co };
}

async function stepForm(box, proposal, to, done) {
  const units = to === "assigned" && session().person.role === "staff" ? (await get("/api/units")).items : null;
  const required = NEEDS_REASON.has(to);
  const note = h("textarea", { name: "note", rows: 2, maxlength: 500, required });
  const form = h(
    "form",
    { class: "step-form", novalidate: true, "aria-label": t(`step_${to}`) },
    h("h3", {}, t(`step_${to}`)),
    h("p", { class: "muted" }, t(`stepHint_${to}`)),
    units ? unitsFields(proposal, units) : null,
    to === "rejected" ? reasonField() : null,
    fieldBox("note", required ? t("psReasonRequired") : t("psReason"), note, t("psReasonHint")),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: to === "rejected" ? "danger" : "primary" }, t("psConfirm")),
      h("button", { type: "button", onclick: () => mount(box) }, t("psCancel"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reason = form.elements.reason?.value || null;
    const moved = await submitting(form, () => step(proposal, to, note.value.trim(), units ? unitsOf(form) : null, reason));
    if (moved) done(moved);
  });
  mount(box, form);
  (form.querySelector("select, textarea"))?.focus();
}

function history(proposal) {
  return h(
    "ol",
    { class: "timeline history" },
    proposal.history.map((s) =>
      h("li", {},
        h("time", { datetime: s.at }, fmt.dateTime(s.at)), " ",
        s.from_status ? t("psFrom", { from: t(`status_${s.from_status}`), to: t(`status_${s.to_status}`) }) : t(`status_${s.to_status}`),
        " · ", s.by_name || `#${s.by_id}`,
        s.reason ? h("div", {}, `${t("psWhy")}：${t(`reason_${s.reason}`)}`) : null,
        s.note ? h("div", { class: "muted" }, `${t("psReason")}：${s.note}`) : null),
    ),
  );
}

function dueLine(proposal) {
  if (!proposal.reply_due) return null;
  const late = ["assigned", "handling"].includes(proposal.status) && today() > proposal.reply_due;
  return h("p", {}, t("psDue", { day: proposal.reply_due }), " ", late ? badge(t("psOverdue"), "warn") : null);
}

// The panel for the proposal page; `changed(proposal)` redraws the page after a step.
export function stepsPanel(proposal, changed) {
  const staff = session()?.person?.role === "staff";
  const box = h("div", { class: "step-box" });
  const buttons = proposal.steps.map((to) =>
    h("button", { type: "button", class: to === "rejected" || to === "converted" ? "danger" : "primary", onclick: () => stepForm(box, proposal, to, changed) }, t(`step_${to}`)));
  if (!staff && !buttons.length) return null;
  return h(
    "section",
    { class: "card steps", "aria-labelledby": "steps-h" },
    h("div", { class: "toolbar" },
      h("h2", { id: "steps-h" }, t("psTitle")),
      staff ? h("a", { class: "button", href: `#/proposals/${proposal.id}/edit` }, t("psEdit")) : null),
    h("p", {}, t("psNow"), badge(t(`status_${proposal.status}`), "status")),
    dueLine(proposal),
    buttons.length ? h("div", { class: "actions" }, buttons) : h("p", { class: "muted" }, t("psNoSteps")),
    box,
    h("h3", {}, t("psHistory")),
    history(proposal),
  );
}
