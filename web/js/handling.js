// Handling a proposal, shared by the proposal page and the workspaces of units, members and
// leaders: the API calls (files with upload progress, reply, progress, evaluations, follow-ups),
// who may do what now, and the words for every verdict and state.
import { ApiError, download, forget, get, patch, post, session } from "./api.js";
import { addTexts, t } from "./i18n.js";
import { attempt, badge, fmt, h } from "./ui.js";

addTexts({
  "zh-CN": {
    quality_high: "高", quality_medium: "中", quality_low: "低",
    qualityOf: "提案质量：{verdict}",
    fu_open: "未完成", fu_done: "已完成", fu_cancelled: "已取消",
    session_scheduled: "未开始", session_live: "进行中", session_ended: "已举行", session_cancelled: "已取消",
    leadUnit: "主办单位", coUnits: "协办单位", proposers: "提案人", category: "类别",
    keyProposal: "重点提案", replyDue: "答复期限", round: "第 {n} 轮办理", files: "附件", download: "下载",
    bytesKB: "{n} KB", bytesMB: "{n} MB",
    pCreated: "{at} 列入督办", pReminded: "{at} 已提醒", pDoneAt: "{at} 完成", pNote: "说明：{note}",
    pDoneNote: "完成情况说明", pMarkDone: "标为已完成", pMarkedDone: "已标为完成",
  },
  en: {
    quality_high: "High", quality_medium: "Medium", quality_low: "Low",
    qualityOf: "Proposal quality: {verdict}",
    fu_open: "Open", fu_done: "Done", fu_cancelled: "Cancelled",
    session_scheduled: "Scheduled", session_live: "Live", session_ended: "Held", session_cancelled: "Cancelled",
    leadUnit: "Lead unit", coUnits: "Co-handling units", proposers: "Proposers", category: "Category",
    keyProposal: "Key proposal", replyDue: "Reply due", round: "Handling round {n}", files: "Files", download: "Download",
    bytesKB: "{n} KB", bytesMB: "{n} MB",
    pCreated: "{at} followed up", pReminded: "{at} reminded", pDoneAt: "{at} done", pNote: "Note: {note}",
    pDoneNote: "What was done", pMarkDone: "Mark done", pMarkedDone: "Marked done",
  },
});

export const VERDICTS = ["satisfied", "basically_satisfied", "unsatisfied"];
export const QUALITIES = ["high", "medium", "low"];
const VERDICT_KIND = { satisfied: "good", basically_satisfied: "good", unsatisfied: "warn" };

// Words for an evaluation's verdict, whichever kind it is (handling or quality).
export function verdictWords(evaluation) {
  return evaluation.kind === "quality" ? t(`quality_${evaluation.verdict}`) : t(`verdict_${evaluation.verdict}`);
}

export function verdictBadge(verdict) {
  return badge(t(`verdict_${verdict}`), VERDICT_KIND[verdict] || "");
}

export function followUpBadge(f) {
  return f.overdue ? badge(t("overdue"), "warn") : badge(t(`fu_${f.status}`), f.status === "open" ? "pending" : f.status);
}

export function stageWords(stages) {
  return stages.map((s) => t(`stage_${s}`)).join("、");
}

export function sizeWords(bytes) {
  if (bytes >= 1024 * 1024) return t("bytesMB", { n: Math.round((bytes / (1024 * 1024)) * 10) / 10 });
  return t("bytesKB", { n: Math.max(1, Math.round(bytes / 1024)) });
}

// ---------------------------------------------------------------- who may do what now

const BEING_HANDLED = new Set(["assigned", "handling", "replied", "evaluated"]);

// What the signed-in person may do on a proposal in its present state (the server decides; this
// only chooses which forms to offer).
// `cosignersEvaluate`: staff let co-signers (联名, `proposal.cosigners` answered "accepted")
// evaluate the reply too, each once per round, beside the proposer.
export function abilities(proposal, handling, me = session()?.person, { cosignersEvaluate = false } = {}) {
  const staff = me?.role === "staff";
  const unitOf = me?.role === "unit" && me.unit_id != null && [proposal.lead_unit_id, ...proposal.co_unit_ids].includes(me.unit_id);
  const lead = me?.role === "unit" && me.unit_id != null && me.unit_id === proposal.lead_unit_id;
  const co = me?.role === "unit" && me.unit_id != null && proposal.co_unit_ids.includes(me.unit_id);
  const proposer = proposal.proposers.some((p) => p.id === me?.id);
  // A co-signer's evaluation (when staff allow them) sits beside the proposer's, not in its place.
  const evaluated = (kind, round) => handling.evaluations.some((e) => e.kind === kind && e.round === round && !e.as_cosigner);
  const lastReply = handling.replies.length ? Math.max(...handling.replies.map((r) => r.round)) : null;
  const cosigner = !proposer && (proposal.cosigners || []).some((c) => c.person_id === me?.id && c.answer === "accepted");
  const cosignerMay = cosignersEvaluate && cosigner && lastReply !== null && ["replied", "evaluated"].includes(proposal.status);
  const cosigned = handling.evaluations.some((e) => e.as_cosigner && e.by_id === me?.id && e.round === lastReply);
  return {
    startHandling: lead && proposal.status === "assigned",
    upload: staff || unitOf,
    reply: (lead || staff) && proposal.status === "handling",
    opinion: co && (proposal.status === "assigned" || proposal.status === "handling"),
    readOpinions: staff || me?.role === "leader" || unitOf,
    progress: (unitOf || staff) && BEING_HANDLED.has(proposal.status),
    evaluate: (proposer && proposal.status === "replied" && !evaluated("handling", proposal.round)) || (cosignerMay && !cosigned),
    rate: lead && lastReply !== null && !evaluated("quality", lastReply),
  };
}

// ---------------------------------------------------------------- the API

export const loadRules = () => get("/api/attachment-rules");
export const loadHandling = (id) => get(`/api/proposals/${id}/handling`);
export const startHandling = (id) => post(`/api/proposals/${id}/transitions`, { to: "handling" });
// An itemised reply: `items` answer the proposal's suggestions ([{suggestion, class, text, due?}]).
export const sendReply = (id, text, items, attachmentIds) => post(`/api/proposals/${id}/reply`, { text, items, attachment_ids: attachmentIds });
export const sendOpinion = (id, text, attachmentIds) => post(`/api/proposals/${id}/opinions`, { text, attachment_ids: attachmentIds });
export const sendProgress = (id, milestone, percent, text) => post(`/api/proposals/${id}/progress`, { milestone, percent, text });
// `scores` (per criterion, when staff defined criteria) or null for a verdict alone.
export const sendEvaluation = (id, verdict, comment, scores = null) => post(`/api/proposals/${id}/evaluation`, { verdict, comment, ...(scores ? { scores } : {}) });
export const sendQuality = (id, verdict, comment, scores = null) => post(`/api/proposals/${id}/quality-rating`, { verdict, comment, ...(scores ? { scores } : {}) });
export const followUpDone = (id, note) => patch(`/api/follow-ups/${id}`, { status: "done", note: note || null });
export const downloadFile = (file) => download(`/api/attachments/${file.id}`, file.name);

// The media type the server expects for a file: the one whose extensions fit its name (browsers
// give no type, or a vague one, for .ofd and others), else what the browser says.
export function mediaTypeOf(file, rules) {
  const name = file.name.toLowerCase();
  const fits = rules.types.find((kind) => kind.extensions.some((ext) => name.endsWith(ext)));
  return fits ? fits.media_type : file.type || "application/octet-stream";
}

// Why a file would be refused, checked before anything is sent; null when it may go.
export function fileProblem(file, rules) {
  const name = file.name.toLowerCase();
  if (!rules.types.some((kind) => kind.extensions.some((ext) => name.endsWith(ext)))) return "type";
  if (file.size > rules.max_bytes) return "size";
  if (file.size === 0) return "empty";
  return null;
}

// Upload one file to a proposal with XMLHttpRequest, whose upload events tell the progress;
// `onProgress(fraction)` is called as it goes. Resolves to the stored attachment.
export function uploadFile(proposalId, file, rules, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/proposals/${proposalId}/attachments?name=${encodeURIComponent(file.name)}`);
    const token = session()?.token;
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", mediaTypeOf(file, rules));
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201) {
        onProgress(1);
        resolve(body);
        return;
      }
      if (xhr.status === 401) forget();
      reject(new ApiError(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new TypeError("network")));
    xhr.send(file);
  });
}

// ---------------------------------------------------------------- small views

// A list of files, each with its size and a download button.
export function fileList(files) {
  return h(
    "ul",
    { class: "list files" },
    files.map((file) =>
      h(
        "li",
        { class: "row" },
        h("span", {}, file.name, " ", h("small", { class: "muted" }, sizeWords(file.size))),
        h("button", { type: "button", class: "small", "aria-label": `${t("download")} ${file.name}`, onclick: () => attempt(() => downloadFile(file)) }, t("download")),
      ),
    ),
  );
}

// ---------------------------------------------------------------- forms

let fieldIds = 0;
export function field(label, input, hint) {
  fieldIds += 1;
  input.id = input.id || `pf-${fieldIds}`;
  const hintId = hint ? `${input.id}-hint` : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: input.id }, label), input, hint ? h("small", { class: "muted", id: hintId }, hint) : null);
}

// A form in a card: its title, fields, a submit button and a place for the server's refusal.
export function actionForm(title, fields, submitLabel, submit, kind = "card") {
  const problem = h("p", { class: "error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const el = h(
    "form",
    { class: kind === "inline" ? "inline-form" : "card", "aria-label": title },
    kind === "inline" ? null : h("h2", {}, title),
    fields,
    problem,
    h("div", { class: "actions" }, button),
  );
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    button.disabled = true;
    try {
      await submit();
    } catch (error) {
      problem.textContent = error.message || t("error");
      problem.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
  return el;
}


// What happened to a follow-up: listed, reminded, done (with the unit's note) or cancelled.
export function followUpHistory(f) {
  return h(
    "ol",
    { class: "history" },
    h("li", {}, t("pCreated", { at: fmt.dateTime(f.created_at) })),
    f.reminded_at ? h("li", {}, t("pReminded", { at: fmt.dateTime(f.reminded_at) })) : null,
    f.done_at ? h("li", {}, t("pDoneAt", { at: fmt.dateTime(f.done_at) })) : null,
    f.status === "cancelled" ? h("li", {}, t("fu_cancelled")) : null,
    f.note ? h("li", {}, t("pNote", { note: f.note })) : null,
  );
}

// The owner unit reports a follow-up done, with a note of what was done; then `done(message)`.
export function doneForm(f, done) {
  const note = h("input", { name: "note", maxlength: 1000 });
  return actionForm(
    `${t("pMarkDone")}：${f.text}`,
    [field(t("pDoneNote"), note)],
    t("pMarkDone"),
    async () => {
      await followUpDone(f.id, note.value.trim());
      await done(t("pMarkedDone"));
    },
    "inline",
  );
}

