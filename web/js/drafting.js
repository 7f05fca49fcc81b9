// 提 and 立, shared by their pages: members' drafts, co-signing and submission windows (the API
// calls), the words for not-filed reasons, co-signers' answers and public consent, and the
// proposal's own text (situation, suggestions, consent, co-signers) as the pages show it.
import { get, patch, post, put } from "./api.js";
import { addTexts, t } from "./i18n.js";
import { groupBox } from "./form-errors.js";
import { badge, h, mount } from "./ui.js";

addTexts({
  "zh-CN": {
    deSuggestions: "具体建议", deSuggestionsHint: "每条建议单独填写，承办单位将逐条答复", deSuggestion: "建议 {n}",
    deAdd: "添加一条建议", deUp: "上移", deDown: "下移", deRemove: "删除",
    myDraftEdit: "编辑草稿", dSituation: "现状与问题", dSuggestions: "具体建议", dPublic: "是否同意公开", dPublicYes: "同意公开",
    dPublicNo: "不同意公开", dPublicUnsaid: "未说明", dCosigners: "联名委员", dNoCosigners: "无联名委员",
    answer_invited: "待确认", answer_accepted: "已同意", answer_declined: "已谢绝",
    reason_out_of_scope: "不属于政协职能或提案受理范围", reason_legal_process: "属于诉讼、仲裁等应通过法定程序解决的事项",
    reason_personal: "属于个人或少数人的具体事务", reason_no_suggestion: "没有具体建议或建议不可行",
    reason_duplicate: "与已立案提案内容重复", reason_secret: "涉及国家秘密", reason_other: "其他原因（见说明）",
    dOutcome: "审查结果", dOutcome_filed: "已立案，编号 {number}", dOutcome_rejected: "不予立案：{reason}",
    dOutcome_converted: "已转为意见（社情民意）", dOutcome_merged: "已并入提案 {lead} 一并办理", dNote: "说明：{note}",
  },
  en: {
    deSuggestions: "Suggestions", deSuggestionsHint: "one suggestion each; the unit answers each one", deSuggestion: "Suggestion {n}",
    deAdd: "Add a suggestion", deUp: "Move up", deDown: "Move down", deRemove: "Remove",
    myDraftEdit: "Edit the draft", dSituation: "The situation", dSuggestions: "Suggestions", dPublic: "May it be made public", dPublicYes: "May be made public",
    dPublicNo: "Not to be made public", dPublicUnsaid: "Not stated", dCosigners: "Co-signers", dNoCosigners: "No co-signers",
    answer_invited: "Not answered", answer_accepted: "Accepted", answer_declined: "Declined",
    reason_out_of_scope: "Not within the committee's remit or the scope of proposals", reason_legal_process: "A matter for litigation, arbitration or another legal process",
    reason_personal: "A personal matter or one of a few people", reason_no_suggestion: "No concrete or workable suggestion",
    reason_duplicate: "Repeats a proposal already filed", reason_secret: "Touches state secrets", reason_other: "Another reason (see the note)",
    dOutcome: "Review outcome", dOutcome_filed: "Filed as number {number}", dOutcome_rejected: "Not filed: {reason}",
    dOutcome_converted: "Turned into an opinion (社情民意)", dOutcome_merged: "Merged into proposal {lead} and handled with it", dNote: "Note: {note}",
  },
});

export const REASONS = ["out_of_scope", "legal_process", "personal", "no_suggestion", "duplicate", "secret", "other"];

// ---------------------------------------------------------------- the API

export const createDraft = (body) => post("/api/proposals", body);
export const saveDraft = (id, body) => patch(`/api/proposals/${id}`, body);
export const inviteCosigners = (id, personIds) => post(`/api/proposals/${id}/cosigners`, { person_ids: personIds });
export const answerCosign = (id, answer) => post(`/api/proposals/${id}/cosign`, { answer });
export const submitDraft = (id) => post(`/api/proposals/${id}/submit`);
export const loadWindows = () => get("/api/submission-windows");
export const saveWindow = (year, opens, closes) => put(`/api/submission-windows/${year}`, { opens, closes });
export const fileStep = (id, body) => post(`/api/proposals/${id}/transitions`, body);
export const mergeInto = (id, leadId) => patch(`/api/proposals/${id}`, { bundle_lead_id: leadId });

// ---------------------------------------------------------------- words

export function publicWords(value) {
  if (value === true) return t("dPublicYes");
  if (value === false) return t("dPublicNo");
  return t("dPublicUnsaid");
}

export function answerBadge(answer) {
  return badge(t(`answer_${answer}`), answer === "accepted" ? "good" : answer === "declined" ? "warn" : "");
}

// The filing review's outcome as the proposer reads it, or null while none was reached.
export function outcome(p) {
  const last = [...p.history].reverse().find((s) => ["filed", "rejected", "converted"].includes(s.to_status));
  if (p.bundle_lead_id != null && ["submitted", "filed"].includes(p.status)) return { text: t("dOutcome_merged", { lead: `#${p.bundle_lead_id}` }), note: null, kind: "status" };
  if (!last || last.to_status !== p.status) return null;
  const reason = last.reason ? t(`reason_${last.reason}`) : "";
  const text = t(`dOutcome_${last.to_status}`, { number: p.number || "", reason });
  return { text, note: last.note, kind: last.to_status === "filed" ? "good" : "warn" };
}

export function outcomeLine(p) {
  const found = outcome(p);
  if (!found) return null;
  return h("p", { class: "outcome", dataset: { outcome: p.status } }, badge(found.text, found.kind), found.note ? h("span", { class: "muted" }, ` ${t("dNote", { note: found.note })}`) : null);
}

// The proposal's own text: the situation, the numbered suggestions, consent and co-signers.
export function proposalText(p) {
  return [
    p.situation ? [h("h3", {}, t("dSituation")), h("p", { class: "prose" }, p.situation)] : null,
    p.suggestions.length ? [h("h3", {}, t("dSuggestions")), h("ol", { class: "suggestions" }, p.suggestions.map((s) => h("li", { class: "prose" }, s)))] : null,
    h("p", {}, h("span", { class: "muted" }, `${t("dPublic")}：`), publicWords(p.public)),
    p.cosigners.length
      ? [h("h3", {}, t("dCosigners")), h("ul", { class: "list cosigners" }, p.cosigners.map((c) => h("li", {}, c.name, " ", answerBadge(c.answer))))]
      : null,
  ];
}

function move(list, i, by) {
  const j = i + by;
  if (j < 0 || j >= list.length) return;
  [list[i], list[j]] = [list[j], list[i]];
}

// The suggestions as a list to add to, remove from and reorder; `model.suggestions` holds them.
export function suggestionsEditor(model) {
  const list = h("ol", { class: "suggestion-list" });
  const redraw = (focus) => {
    mount(list, model.suggestions.map((text, i) => suggestionRow(model, i, text, redraw)));
    if (focus != null) list.querySelectorAll("textarea")[focus]?.focus();
  };
  redraw();
  const add = h("button", { type: "button", class: "small", onclick: () => { model.suggestions.push(""); redraw(model.suggestions.length - 1); } }, t("deAdd"));
  const box = groupBox("suggestions", t("deSuggestions"), h("small", { class: "muted" }, t("deSuggestionsHint")), list, add);
  box.className = "suggestions-editor";
  return box;
}

function suggestionRow(model, i, text, redraw) {
  const n = i + 1;
  const area = h("textarea", { rows: 2, maxlength: 5000, "aria-label": t("deSuggestion", { n }), dataset: { suggestion: n } }, text);
  area.addEventListener("input", () => { model.suggestions[i] = area.value; });
  const last = model.suggestions.length - 1;
  const button = (label, disabled, action, focus) =>
    h("button", { type: "button", class: "small", disabled, "aria-label": `${label} ${t("deSuggestion", { n })}`, onclick: () => { action(); redraw(focus); } }, label);
  return h("li", { class: "suggestion" }, area,
    h("div", { class: "actions" },
      button(t("deUp"), i === 0, () => move(model.suggestions, i, -1), i - 1),
      button(t("deDown"), i === last, () => move(model.suggestions, i, 1), i + 1),
      button(t("deRemove"), model.suggestions.length === 1, () => model.suggestions.splice(i, 1), Math.max(0, i - 1))));
}
