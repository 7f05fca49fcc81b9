// A proposal's page (办理档案) for everyone who may see it: who proposed it, its units, summary
// and files, the sessions by stage with their approved minutes' decisions, replies, progress,
// evaluations, follow-ups and the timeline; and the forms of what the reader may do now
// (co-handling units send their opinions; the lead unit reads them and replies item by item,
// one class per suggestion, with the reply letter; units report progress, proposers evaluate,
// the lead unit rates the quality, owner units report follow-ups done).
// The model holds the dossier and does the API calls; the view draws it and calls the model.
import { download, get, session } from "../api.js";
import {
  abilities,
  actionForm,
  doneForm,
  field,
  followUpHistory,
  fileList,
  fileProblem,
  followUpBadge,
  loadRules,
  QUALITIES,
  sendEvaluation,
  sendOpinion,
  sendProgress,
  sendQuality,
  sendReply,
  sizeWords,
  startHandling,
  uploadFile,
  VERDICTS,
  verdictBadge,
  verdictWords,
} from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { itemsEditor, opinionsView, replyItemsView } from "../itemised-reply.js";
import { errorState, loadPage } from "../page.js";
import { outcomeLine, proposalText } from "../drafting.js";
import { attempt, badge, empty, fmt, h, mount, section, titled, toast } from "../ui.js";
import { loadSettings, scoreFields, scoreSummary } from "./evaluation-scores.js";
import { instructionForm, instructionList, instructionWords, leadFacts, loadLeaders } from "./proposal-leaders.js";
import { stepsPanel } from "./proposal-steps.js";

addTexts({
  "zh-CN": {
    pStart: "开始办理", pStarted: "已开始办理", pStartHint: "提案已交办本单位主办。确认开始办理后，即可答复提案。",
    pReply: "答复提案", pReplyText: "答复内容", pReplySend: "提交答复", pReplied: "答复已提交",
    pAttach: "添加附件", pRules: "可上传 {types} 格式的文件，每个文件不超过 {size}。",
    pUploading: "{name} 上传中", pUploaded: "已上传", pRemove: "移除",
    pBadType: "“{name}”的格式不能上传：只接受 {types}。", pTooBig: "“{name}”有 {size}，超过了 {max} 的上限。",
    pEmptyFile: "“{name}”是空文件。", pUploadFailed: "“{name}”上传失败：{why}",
    pProgress: "报告办理进展", pMilestone: "节点", pPercent: "完成百分比", pProgressText: "说明",
    pProgressSend: "提交进展", pProgressSaved: "进展已提交",
    pEvaluate: "评价办理答复", pVerdict: "评价", pComment: "意见", pEvaluateSend: "提交评价",
    pEvaluated: "评价已提交", pQuality: "评价提案质量", pQualitySend: "提交质量评价", pRated: "质量评价已提交",
    pSecondRound: "提案人对第 {prev} 轮答复不满意，第 {n} 轮办理已开始。",
    pSummary: "提案内容", pFacts: "基本情况", pBundle: "并案（1+N）", pBundleLead: "主提案",
    pYes: "是", pNoStage: "其他协商", pReplyBy: "{unit} · {date}", pRoundN: "第 {n} 轮答复",
    pByProposer: "提案人评价办理", pByUnit: "承办单位评价提案质量",
    pOwner: "责任单位：{unit}", pDue: "完成时限：{due}",
   
   
    pTransition: "{from} → {to}", pTransitionNote: "（{note}）", pNewRound: "不满意，开始第 {n} 轮办理",
    pMinutesApproved: "{title}：会议纪要第 {v} 版批准", pFollowUp: "督办：{text}（{state}）",
    pProgressEntry: "办理进展：{milestone}（{percent}%）", pEvaluation: "{who}：{verdict}",
    pActionItem: "落实事项：{text}", pPercentOf: "{n}%", pNoFiles: "暂无附件",
    pExport: "导出 .docx", pUnknownUnit: "单位 {id}",
  },
  en: {
    pStart: "Start handling", pStarted: "Handling started", pStartHint: "The proposal is assigned to your unit as lead. Once you start handling it, you can reply.",
    pReply: "Reply to the proposal", pReplyText: "Reply", pReplySend: "Send the reply", pReplied: "Reply sent",
    pAttach: "Attach files", pRules: "Files of type {types}, each at most {size}.",
    pUploading: "Uploading {name}", pUploaded: "Uploaded", pRemove: "Remove",
    pBadType: "“{name}” cannot be uploaded: only {types} are accepted.", pTooBig: "“{name}” is {size}, over the limit of {max}.",
    pEmptyFile: "“{name}” is empty.", pUploadFailed: "“{name}” was not uploaded: {why}",
    pProgress: "Report progress", pMilestone: "Milestone", pPercent: "Percent done", pProgressText: "Details",
    pProgressSend: "Send the report", pProgressSaved: "Progress reported",
    pEvaluate: "Evaluate the reply", pVerdict: "Verdict", pComment: "Comment", pEvaluateSend: "Send the evaluation",
    pEvaluated: "Evaluation sent", pQuality: "Rate the proposal's quality", pQualitySend: "Send the rating", pRated: "Rating sent",
    pSecondRound: "The proposer was not satisfied with the reply of round {prev}: handling round {n} has started.",
    pSummary: "Summary", pFacts: "About", pBundle: "Bundle (1+N)", pBundleLead: "lead proposal",
    pYes: "Yes", pNoStage: "Other sessions", pReplyBy: "{unit} · {date}", pRoundN: "Reply of round {n}",
    pByProposer: "Proposer on the handling", pByUnit: "Unit on the proposal's quality",
    pOwner: "Owner: {unit}", pDue: "Due: {due}",
   
   
    pTransition: "{from} → {to}", pTransitionNote: " ({note})", pNewRound: "Unsatisfied: handling round {n} starts",
    pMinutesApproved: "{title}: minutes version {v} approved", pFollowUp: "Follow-up: {text} ({state})",
    pProgressEntry: "Progress: {milestone} ({percent}%)", pEvaluation: "{who}: {verdict}",
    pActionItem: "Action item: {text}", pPercentOf: "{n}%", pNoFiles: "No files yet",
    pExport: "Export .docx", pUnknownUnit: "Unit {id}",
  },
});

// ---------------------------------------------------------------- model

class ProposalModel {
  constructor(id) {
    this.id = id;
    this.me = session()?.person;
    this.dossier = null;
    this.units = new Map();
    this.rules = null;
    this.criteria = { handling: [], quality: [] }; // the staff's evaluation criteria
    this.leaders = []; // for staff recording a leader's instruction
    this.draft = { text: "", files: [], items: {} }; // the reply being written
    this.opinionDraft = { text: "", files: [] }; // a co-unit's opinion being written
  }

  async load() {
    const [dossier, units] = await Promise.all([
      get(`/api/proposals/${this.id}/dossier`),
      get("/api/units").catch(() => ({ items: [] })),
    ]);
    this.dossier = dossier;
    this.units = new Map(units.items.map((u) => [u.id, u.name]));
    // A co-signer may evaluate only if staff allow it: the settings say, so read them first.
    const cosigner = (dossier.proposal.cosigners || []).some((c) => c.person_id === this.me?.id);
    if (cosigner) this.criteria = await loadSettings();
    const can = this.can();
    if (can.upload && !this.rules) this.rules = await loadRules();
    if ((can.evaluate || can.rate) && !cosigner) this.criteria = await loadSettings();
    if (this.me?.role === "staff" && !this.leaders.length) this.leaders = await loadLeaders(this.me);
    return this;
  }

  get proposal() {
    return this.dossier.proposal;
  }

  get handling() {
    return this.dossier.handling;
  }

  can() {
    return abilities(this.proposal, this.handling, this.me, { cosignersEvaluate: this.criteria.cosigners_evaluate });
  }

  unitName(id) {
    return id == null ? "—" : this.units.get(id) || t("pUnknownUnit", { id });
  }

  ownsFollowUp(f) {
    return this.me?.role === "unit" && this.me.unit_id != null && this.me.unit_id === f.owner_unit_id;
  }

  attachment(id) {
    return this.handling.attachments.find((a) => a.id === id);
  }

  startHandling() {
    return startHandling(this.id);
  }
  upload(file, onProgress) {
    return uploadFile(this.id, file, this.rules, onProgress);
  }
  reply(text, items, ids) {
    return sendReply(this.id, text, items, ids);
  }
  opinion(text, ids) {
    return sendOpinion(this.id, text, ids);
  }
  progress(milestone, percent, text) {
    return sendProgress(this.id, milestone, percent, text);
  }
  evaluate(verdict, comment, scores) {
    return sendEvaluation(this.id, verdict, comment, scores);
  }
  rate(verdict, comment, scores) {
    return sendQuality(this.id, verdict, comment, scores);
  }
  exportDocx() {
    return download(`/api/proposals/${this.id}/dossier.docx`, `dossier-${this.id}.docx`);
  }
}

// ---------------------------------------------------------------- view

export async function show(main, where) {
  const model = new ProposalModel(where.id);
  return loadPage(main, () => model.load(), () => draw(main, model));
}

// After an action: load again and draw, or show the state the error calls for.
async function refresh(main, model, message) {
  try {
    await model.load();
  } catch (error) {
    mount(main, errorState(error, () => refresh(main, model)));
    return;
  }
  draw(main, model);
  if (message) toast(message);
}

function draw(main, model) {
  const p = model.proposal;
  const d = model.dossier;
  const done = (message) => refresh(main, model, message);
  mount(
    main,
    heading(model),
    p.round > 1 && p.status === "handling" ? h("p", { class: "alert warn", role: "status", dataset: { round: p.round } }, t("pSecondRound", { prev: p.round - 1, n: p.round })) : null,
    outcomeLine(p),
    p.status === "draft" && p.author_id === session()?.person?.id ? h("p", {}, h("a", { class: "button primary", href: `#/my/drafts/${p.id}` }, t("myDraftEdit"))) : null,
    stages(p.compliance),
    actionPanel(model, done),
    // Staff take the lifecycle steps (立案, 不予立案, 交办, …); units and proposers act through
    // the forms above, which take the same steps with their content.
    session()?.person?.role === "staff" ? stepsPanel(p, () => done()) : null,
    h(
      "div",
      { class: "grid" },
      facts(model, done),
      model.can().readOpinions && p.co_unit_ids.length ? section(t("opTitle"), opinionsView(model.handling.opinions, (id) => model.unitName(id), fileList)) : null,
      sessionsByStage(d.sessions),
      replies(model),
      instructionList(d, (id) => model.unitName(id)),
      progressList(model),
      evaluations(model),
      section(t("files"), model.handling.attachments.length ? fileList(model.handling.attachments) : h("p", { class: "muted" }, t("pNoFiles"))),
      followUps(model, done),
    ),
    section(t("timeline"), timeline(model)),
  );
}

function heading(model) {
  const p = model.proposal;
  return h(
    "div",
    { class: "toolbar" },
    h(
      "h1",
      {},
      `${titled(p)} `,
      badge(t(`status_${p.status}`), "status"),
      p.key ? badge(t("keyProposal"), "warn") : null,
      p.round > 1 ? badge(t("round", { n: p.round }), "warn") : null,
    ),
    h("div", { class: "actions" }, h("button", { type: "button", onclick: () => attempt(() => model.exportDocx()) }, t("pExport"))),
  );
}

function stages(c) {
  return h(
    "div",
    { class: "stages", role: "group", "aria-label": t("compliance") },
    ["before", "during", "after"].map((stage) =>
      h(
        "div",
        { class: `stage-box${c.missing.includes(stage) ? " missing" : c[stage] ? " held" : ""}` },
        h("b", {}, t(`stage_${stage}`)),
        h("span", {}, String(c[stage])),
        c.missing.includes(stage) ? h("small", {}, t("missing", { stages: t(`stage_${stage}`) })) : null,
      ),
    ),
  );
}

function facts(model, done) {
  const p = model.proposal;
  const d = model.dossier;
  const people = [...p.proposers.map((x) => x.name), p.group_proposer].filter(Boolean).join("、") || "—";
  const rows = [
    [t("proposers"), people],
    [t("category"), p.category || "—"],
    [t("leadUnit"), model.unitName(p.lead_unit_id)],
    [t("coUnits"), p.co_unit_ids.map((id) => model.unitName(id)).join("、") || "—"],
    p.key ? [t("keyProposal"), t("pYes")] : null,
    p.reply_due ? [t("replyDue"), p.reply_due] : null,
  ].filter(Boolean);
  return section(
    t("pFacts"),
    h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]), p.key || p.leader_id != null ? leadFacts(p, done) : null),
    d.bundle.length > 1
      ? [
          h("h3", {}, t("pBundle")),
          h("ul", { class: "list" }, d.bundle.map((m) => h("li", {}, m.id === p.id ? titled(m) : h("a", { href: `#/proposals/${m.id}` }, titled(m)), m.lead ? ` · ${t("pBundleLead")}` : "", " ", badge(t(`status_${m.status}`), "status")))),
        ]
      : null,
    p.summary ? [h("h3", {}, t("pSummary")), h("p", { class: "prose" }, p.summary)] : null,
    proposalText(p),
  );
}

function sessionsByStage(sessions) {
  if (!sessions.length) return section(t("sessions"), empty());
  const groups = ["before", "during", "after", null].map((stage) => [stage, sessions.filter((s) => (s.stage || null) === stage)]);
  return section(
    t("sessions"),
    groups
      .filter(([, list]) => list.length)
      .map(([stage, list]) => [
        h("h3", {}, stage ? t(`stage_${stage}`) : t("pNoStage")),
        h("ul", { class: "list" }, list.map(sessionItem)),
      ]),
  );
}

function sessionItem(s) {
  const items = s.minutes ? s.minutes.items : [];
  return h(
    "li",
    {},
    h("a", { href: `#/sessions/${s.id}` }, s.title),
    " ",
    badge(t(`session_${s.status}`), s.status),
    h("div", { class: "muted" }, `${fmt.date(s.starts_at)} · ${t(`kind_${s.kind}`)} · ${t(`mode_${s.mode}`)}`),
    items.length
      ? h(
          "ul",
          { class: "decisions" },
          items.flatMap((i) => [...i.decisions.map((x) => h("li", {}, `${t("decisions")}：${x}`)), ...i.actions.map((a) => h("li", {}, t("pActionItem", { text: a.text })))]),
        )
      : null,
  );
}

function replies(model) {
  const list = model.handling.replies;
  return section(
    t("replies"),
    list.length
      ? list.map((r) =>
          h(
            "article",
            { class: "reply" },
            h("h3", {}, t("pRoundN", { n: r.round })),
            h("p", { class: "muted" }, t("pReplyBy", { unit: model.unitName(r.unit_id), date: fmt.date(r.at) })),
            h("p", { class: "prose" }, r.text),
            replyItemsView(r.items, model.proposal.suggestions || []),
            r.attachments.length ? fileList(r.attachments) : null,
          ),
        )
      : empty(),
  );
}

function progressList(model) {
  const list = model.handling.progress;
  return section(
    t("reports"),
    list.length
      ? h(
          "ul",
          { class: "list" },
          list.map((g) =>
            h(
              "li",
              {},
              h("div", { class: "row" }, h("b", {}, g.milestone), h("span", { class: "muted" }, `${model.unitName(g.unit_id)} · ${fmt.date(g.at)}`)),
              h("div", { class: "row" }, h("progress", { max: 100, value: g.percent, "aria-label": `${g.milestone} ${t("pPercentOf", { n: g.percent })}` }), h("span", {}, t("pPercentOf", { n: g.percent }))),
              g.text ? h("p", { class: "prose" }, g.text) : null,
            ),
          ),
        )
      : empty(),
  );
}

function evaluations(model) {
  const list = model.handling.evaluations;
  return section(
    t("evaluations"),
    list.length
      ? h(
          "ul",
          { class: "list" },
          list.map((e) =>
            h(
              "li",
              { dataset: { kind: e.kind, verdict: e.verdict } },
              h("div", { class: "row" }, h("span", {}, `${t(e.kind === "handling" ? (e.as_cosigner ? "esByCosigner" : "pByProposer") : "pByUnit")} · ${t("round", { n: e.round })}`), e.kind === "handling" ? verdictBadge(e.verdict) : badge(t("qualityOf", { verdict: verdictWords(e) }))),
              scoreSummary(e),
              e.comment ? h("p", { class: "prose" }, e.comment) : null,
              h("small", { class: "muted" }, fmt.date(e.at)),
            ),
          ),
        )
      : empty(),
  );
}

function followUps(model, done) {
  const list = model.dossier.follow_ups;
  return section(
    t("followups"),
    list.length
      ? h(
          "ul",
          { class: "list" },
          list.map((f) =>
            h(
              "li",
              { dataset: { followUp: f.id } },
              h("div", { class: "row" }, h("span", {}, f.text), followUpBadge(f)),
              h("div", { class: "muted" }, t("pOwner", { unit: model.unitName(f.owner_unit_id) }), f.due ? ` · ${t("pDue", { due: f.due })}` : ""),
              followUpHistory(f),
              f.status === "open" && model.ownsFollowUp(f) ? doneForm(f, done) : null,
            ),
          ),
        )
      : empty(),
  );
}

// The timeline, each entry said in words from the structured record it points at.
function timeline(model) {
  const d = model.dossier;
  const p = model.proposal;
  const by = (list, id) => list.find((x) => x.id === id);
  const words = (e) => {
    if (e.kind === "transition") return transitionWords(p.history, e.ref);
    if (e.kind === "session") {
      const s = by(d.sessions, e.ref);
      return s ? `${s.title}（${t(`session_${s.status}`)}）` : e.summary;
    }
    if (e.kind === "minutes") {
      const s = by(d.sessions, e.ref);
      return s?.minutes ? t("pMinutesApproved", { title: s.title, v: s.minutes.version }) : e.summary;
    }
    if (e.kind === "reply") return t("pRoundN", { n: by(d.handling.replies, e.ref)?.round ?? "" });
    if (e.kind === "progress") {
      const g = by(d.handling.progress, e.ref);
      return g ? t("pProgressEntry", { milestone: g.milestone, percent: g.percent }) : e.summary;
    }
    if (e.kind === "evaluation") {
      const x = by(d.handling.evaluations, e.ref);
      return x ? t("pEvaluation", { who: t(x.kind === "handling" ? "pByProposer" : "pByUnit"), verdict: verdictWords(x) }) : e.summary;
    }
    if (e.kind === "instruction") return instructionWords(d, e.ref, e.summary);
    const f = by(d.follow_ups, e.ref);
    return f ? t("pFollowUp", { text: f.text, state: f.overdue ? t("overdue") : t(`fu_${f.status}`) }) : e.summary;
  };
  if (!d.timeline.length) return empty();
  return h("ol", { class: "timeline" }, d.timeline.map((e) => h("li", {}, h("time", { datetime: e.at }, fmt.dateTime(e.at)), " ", words(e))));
}

// A lifecycle step in words. The steps made by a reply or an evaluation carry notes the server
// writes for itself; they are said from the step instead.
function transitionWords(history, place) {
  const step = history[place];
  if (!step) return "";
  const to = t(`status_${step.to_status}`);
  if (step.from_status === "replied" && step.to_status === "handling") {
    const round = history.slice(0, place + 1).filter((x) => x.from_status === "replied" && x.to_status === "handling").length + 1;
    return t("pNewRound", { n: round });
  }
  if (!step.from_status) return to;
  const from = t(`status_${step.from_status}`);
  const generated = (step.from_status === "handling" && step.to_status === "replied") || (step.from_status === "replied" && step.to_status === "evaluated");
  const note = step.note && !generated ? t("pTransitionNote", { note: step.note }) : "";
  return `${t("pTransition", { from, to })}${note}`;
}

// ---------------------------------------------------------------- forms of what the reader may do

function actionPanel(model, done) {
  const can = model.can();
  const forms = [
    can.startHandling ? startForm(model, done) : null,
    can.reply ? replyForm(model, done) : null,
    can.opinion ? opinionForm(model, done) : null,
    can.progress ? progressForm(model, done) : null,
    can.evaluate ? verdictForm("pEvaluate", VERDICTS, (v) => t(`verdict_${v}`), "pEvaluateSend", (v, c, s) => model.evaluate(v, c, s), () => done(t("pEvaluated")), model.criteria.handling) : null,
    can.rate ? verdictForm("pQuality", QUALITIES, (v) => t(`quality_${v}`), "pQualitySend", (v, c, s) => model.rate(v, c, s), () => done(t("pRated")), model.criteria.quality) : null,
    instructionForm(model.proposal, model.units, model.leaders, done),
  ].filter(Boolean);
  return forms.length ? h("div", { class: "grid actions-panel" }, forms) : null;
}

function startForm(model, done) {
  return actionForm(t("pStart"), [h("p", { class: "muted" }, t("pStartHint"))], t("pStart"), async () => {
    await model.startHandling();
    await done(t("pStarted"));
  });
}

function rulesWords(rules) {
  const types = [...new Set(rules.types.flatMap((k) => k.extensions))].join(" ");
  return { types, size: sizeWords(rules.max_bytes) };
}

// The reply: one row per suggestion (class, answer, and for B the commitment's date), the text,
// and the reply letter uploaded (with its progress) before it is sent. The draft lives in the
// model, so another form's redraw keeps what was typed, chosen and uploaded.
function replyForm(model, done) {
  const draft = model.draft;
  const text = h("textarea", { name: "text", rows: 6, required: true, maxlength: 20000 });
  text.value = draft.text;
  text.addEventListener("input", () => {
    draft.text = text.value;
  });
  const suggestions = model.proposal.suggestions || [];
  const editor = suggestions.length ? itemsEditor(suggestions, draft.items) : null;
  const opinions = model.handling.opinions.length;
  return actionForm(
    t("pReply"),
    [
      opinions ? h("details", { class: "alert info", open: true }, h("summary", {}, t("opBeforeReply", { n: opinions })), opinionsView(model.handling.opinions, (id) => model.unitName(id), fileList)) : null,
      editor ? editor.element : h("p", { class: "muted" }, t("rcNoSuggestions")),
      field(t("pReplyText"), text),
      filesField(model, draft, t("rcLetter")),
    ],
    t("pReplySend"),
    async () => {
      await model.reply(text.value, editor ? editor.read() : [], draft.files.map((f) => f.id));
      model.draft = { text: "", files: [], items: {} };
      await done(t("pReplied"));
    },
  );
}

// A co-handling unit's opinion for the lead unit, with files.
function opinionForm(model, done) {
  const draft = model.opinionDraft;
  const text = h("textarea", { name: "opinion", rows: 4, required: true, maxlength: 20000 });
  text.value = draft.text;
  text.addEventListener("input", () => {
    draft.text = text.value;
  });
  return actionForm(t("opSend"), [field(t("opText"), text), filesField(model, draft, t("pAttach"))], t("opSubmit"), async () => {
    await model.opinion(text.value, draft.files.map((f) => f.id));
    model.opinionDraft = { text: "", files: [] };
    await done(t("opSent"));
  });
}

// A file picker whose files are checked, then uploaded one by one with a progress bar, into
// `draft.files` (kept across redraws).
function filesField(model, draft, label) {
  const picker = h("input", { type: "file", name: "files", multiple: true });
  const uploads = h("ul", { class: "list uploads", "aria-live": "polite" });
  const problems = h("div", { role: "alert" });
  const words = rulesWords(model.rules);
  for (const stored of draft.files) uploads.append(uploadedRow(draft, stored));
  picker.addEventListener("change", () => {
    const chosen = [...picker.files];
    picker.value = "";
    problems.replaceChildren();
    for (const file of chosen) sendFile(model, draft, file, words, uploads, problems);
  });
  return [field(label, picker, t("pRules", words)), problems, uploads];
}

function uploadedRow(draft, stored) {
  const remove = h("button", { type: "button", class: "small", "aria-label": `${t("pRemove")} ${stored.name}` }, t("pRemove"));
  const row = h(
    "li",
    { class: "row", dataset: { attachment: stored.id } },
    h("span", {}, stored.name, " ", h("small", { class: "muted" }, sizeWords(stored.size))),
    h("progress", { max: 100, value: 100, "aria-label": `${stored.name} ${t("pUploaded")}` }),
    h("span", { class: "muted" }, t("pUploaded")),
    remove,
  );
  remove.addEventListener("click", () => {
    draft.files = draft.files.filter((f) => f.id !== stored.id);
    row.remove();
  });
  return row;
}

// Check a file against the server's rules before sending it; then upload it with a progress bar.
async function sendFile(model, draft, file, words, uploads, problems) {
  const why = fileProblem(file, model.rules);
  if (why) {
    const message = { type: t("pBadType", { name: file.name, types: words.types }), size: t("pTooBig", { name: file.name, size: sizeWords(file.size), max: words.size }), empty: t("pEmptyFile", { name: file.name }) }[why];
    problems.append(h("p", { class: "error" }, message));
    return;
  }
  const bar = h("progress", { max: 100, value: 0, "aria-label": t("pUploading", { name: file.name }) });
  const state = h("span", { class: "muted" }, "0%");
  const row = h("li", { class: "row" }, h("span", {}, file.name, " ", h("small", { class: "muted" }, sizeWords(file.size))), bar, state);
  uploads.append(row);
  try {
    const stored = await model.upload(file, (fraction) => {
      bar.value = Math.round(fraction * 100);
      state.textContent = `${Math.round(fraction * 100)}%`;
    });
    draft.files.push(stored);
    row.replaceWith(uploadedRow(draft, stored));
  } catch (error) {
    row.remove();
    problems.append(h("p", { class: "error" }, t("pUploadFailed", { name: file.name, why: error.message || t("stateOffline") })));
  }
}

function progressForm(model, done) {
  const milestone = h("input", { name: "milestone", required: true, maxlength: 200 });
  const percent = h("input", { name: "percent", type: "number", min: 0, max: 100, step: 1, required: true, inputmode: "numeric" });
  const text = h("textarea", { name: "text", rows: 3, maxlength: 5000 });
  return actionForm(
    t("pProgress"),
    [field(t("pMilestone"), milestone), field(t("pPercent"), percent), field(t("pProgressText"), text)],
    t("pProgressSend"),
    async () => {
      await model.progress(milestone.value.trim(), Number(percent.value), text.value);
      await done(t("pProgressSaved"));
    },
  );
}

// A verdict (handling or quality) chosen with radio buttons, scores against the staff's
// criteria when there are some, and a comment.
let verdictForms = 0;
function verdictForm(titleKey, options, words, sendKey, send, after, criteria) {
  verdictForms += 1;
  const name = `verdict-${verdictForms}`;
  const comment = h("textarea", { name: "comment", rows: 3, maxlength: 2000 });
  const choices = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, t("pVerdict")),
    options.map((v, i) => h("label", { class: "check" }, h("input", { type: "radio", name, value: v, required: i === 0 }), words(v))),
  );
  const scores = scoreFields(criteria);
  return actionForm(t(titleKey), [choices, scores.el, field(t("pComment"), comment)], t(sendKey), async () => {
    const chosen = choices.querySelector("input:checked");
    await send(chosen.value, comment.value, scores.values());
    await after();
  });
}
