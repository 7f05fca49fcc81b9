// 立案审查 (#/review): staff review the submitted proposals — file them (立案, the number is
// assigned), refuse them with a reason from the list (不予立案), turn them into an opinion
// (转为意见) or merge them into a 1+N bundle — and set each year's submission window.
import { ApiError, get, session } from "../api.js";
import { REASONS, fileStep, loadWindows, mergeInto, proposalText, saveWindow } from "../drafting.js";
import { fieldBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import { badge, fmt, h, mount, titled, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    review: "立案审查", rvQueue: "待审查的提案（{n}）", rvNone: "没有待审查的提案。", rvBy: "提案人：{names}",
    rvSubmitted: "提交于 {date}", rvFile: "立案", rvReject: "不予立案", rvConvert: "转为意见", rvMerge: "并案",
    rvReason: "不予立案的原因", rvChoose: "（请选择）", rvNote: "说明", rvNoteRequired: "说明（必填，提案人可见）",
    rvLead: "并入的牵头提案", rvConfirm: "确认", rvCancel: "取消", rvFiled: "已立案：{number}", rvRejected: "已不予立案",
    rvConverted: "已转为意见", rvMerged: "已并案", rvWindows: "提案提交时间", rvWindowsHint: "按年度设置（一般为全会会期），委员只能在此期间提交提案。",
    rvYear: "年度", rvOpens: "开始日期", rvCloses: "截止日期", rvSaveWindow: "保存", rvWindowSaved: "已保存 {year} 年的提交时间",
    rvNoWindows: "尚未设置任何年度的提交时间。", rvOpenNow: "正在受理", rvUnits: "建议承办单位：{units}", rvReasonMissing: "请选择不予立案的原因", rvLeadMissing: "请选择牵头提案", rvMergedNote: "并入 {lead} 一并办理",
  },
  en: {
    review: "Filing review", rvQueue: "Submitted proposals to review ({n})", rvNone: "No proposal waits for review.", rvBy: "By {names}",
    rvSubmitted: "Submitted {date}", rvFile: "File", rvReject: "Do not file", rvConvert: "Turn into an opinion", rvMerge: "Merge",
    rvReason: "Why it is not filed", rvChoose: "(choose)", rvNote: "Note", rvNoteRequired: "Note (required; the proposer sees it)",
    rvLead: "Lead proposal of the bundle", rvConfirm: "Confirm", rvCancel: "Cancel", rvFiled: "Filed as {number}", rvRejected: "Not filed",
    rvConverted: "Turned into an opinion", rvMerged: "Merged", rvWindows: "Submission windows", rvWindowsHint: "Per year (usually the plenary session's dates); members submit only within it.",
    rvYear: "Year", rvOpens: "Opens", rvCloses: "Closes", rvSaveWindow: "Save", rvWindowSaved: "Saved the window of {year}",
    rvNoWindows: "No year's window is set yet.", rvOpenNow: "open now", rvUnits: "Suggested units: {units}", rvReasonMissing: "Choose why it is not filed", rvLeadMissing: "Choose the lead proposal", rvMergedNote: "merged into {lead}",
  },
});

// ---------------------------------------------------------------- model

class ReviewModel {
  async load() {
    const [queue, leads, units, windows] = await Promise.all([
      get("/api/proposals?status=submitted&limit=500&sort=created_at"),
      get("/api/proposals?limit=500&sort=-number"),
      get("/api/units"),
      loadWindows(),
    ]);
    this.queue = queue.items;
    this.leads = leads.items.filter((p) => p.number && p.bundle_lead_id == null && !["rejected", "converted"].includes(p.status));
    this.units = new Map(units.items.map((u) => [u.id, u.name]));
    this.windows = windows;
    return this;
  }

  decide(p, kind, form) {
    const note = form.elements.note?.value.trim() || null;
    if (kind === "file") return fileStep(p.id, { to: "filed", note });
    if (kind === "reject") {
      const reason = form.elements.reason.value;
      if (!reason) throw new ApiError(400, { detail: t("rvReasonMissing"), errors: [{ field: "reason", message: t("rvReasonMissing") }] });
      return fileStep(p.id, { to: "rejected", reason, note });
    }
    if (kind === "convert") return fileStep(p.id, { to: "converted", note });
    return this.merge(p, Number(form.elements.bundle_lead_id.value) || null);
  }

  // Merged into a 1+N bundle: it is handled with its lead, so it is filed as well.
  async merge(p, leadId) {
    if (!leadId) throw new ApiError(400, { detail: t("rvLeadMissing"), errors: [{ field: "bundle_lead_id", message: t("rvLeadMissing") }] });
    await mergeInto(p.id, leadId);
    const lead = this.leads.find((x) => x.id === leadId);
    return fileStep(p.id, { to: "filed", note: t("rvMergedNote", { lead: lead ? titled(lead) : `#${leadId}` }) });
  }
}

// ---------------------------------------------------------------- view

export async function show(main) {
  if (session()?.person?.role !== "staff") {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new ReviewModel();
  const open = () => loadPage(main, () => model.load(), () => draw(main, model, open));
  return open();
}

function draw(main, model, reload) {
  mount(
    main,
    h("h1", {}, t("review")),
    h("section", { class: "card", "aria-labelledby": "rv-queue" },
      h("h2", { id: "rv-queue" }, t("rvQueue", { n: model.queue.length })),
      model.queue.length ? h("ul", { class: "list review-queue" }, model.queue.map((p) => queueItem(model, p, reload))) : h("p", { class: "muted" }, t("rvNone"))),
    windowsSection(model, reload),
  );
}

function queueItem(model, p, reload) {
  const box = h("div", { class: "decision" });
  const open = (kind) => decisionForm(model, p, kind, box, reload);
  const units = [p.lead_unit_id, ...p.co_unit_ids].filter((u) => u != null).map((u) => model.units.get(u) || `#${u}`);
  return h("li", { class: "review-item", dataset: { proposal: p.id } },
    h("h3", {}, h("a", { href: `#/proposals/${p.id}` }, titled(p))),
    h("p", { class: "muted" }, [t("rvBy", { names: p.proposers.map((x) => x.name).join("、") || p.group_proposer || "—" }), t("rvSubmitted", { date: fmt.date(p.updated_at) }), p.category].filter(Boolean).join(" · ")),
    units.length ? h("p", { class: "muted" }, t("rvUnits", { units: units.join("、") })) : null,
    p.summary ? h("p", { class: "prose" }, p.summary) : null,
    h("details", {}, h("summary", {}, `${t("dSuggestions")} (${p.suggestions.length})`), proposalText(p)),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", onclick: () => open("file") }, t("rvFile")),
      h("button", { type: "button", class: "danger", onclick: () => open("reject") }, t("rvReject")),
      h("button", { type: "button", onclick: () => open("convert") }, t("rvConvert")),
      h("button", { type: "button", onclick: () => open("merge") }, t("rvMerge"))),
    box);
}

const TITLES = { file: "rvFile", reject: "rvReject", convert: "rvConvert", merge: "rvMerge" };
const DONE = { file: "rvFiled", reject: "rvRejected", convert: "rvConverted", merge: "rvMerged" };

function decisionFields(model, p, kind) {
  const needsNote = kind === "reject" || kind === "convert";
  const fields = [];
  if (kind === "reject") {
    fields.push(fieldBox("reason", t("rvReason"), h("select", { name: "reason", required: true }, h("option", { value: "" }, t("rvChoose")), REASONS.map((r) => h("option", { value: r }, t(`reason_${r}`))))));
  }
  if (kind === "merge") {
    const leads = model.leads.filter((x) => x.id !== p.id);
    fields.push(fieldBox("bundle_lead_id", t("rvLead"), h("select", { name: "bundle_lead_id", required: true }, h("option", { value: "" }, t("rvChoose")), leads.map((x) => h("option", { value: String(x.id) }, titled(x))))));
  } else {
    fields.push(fieldBox("note", needsNote ? t("rvNoteRequired") : t("rvNote"), h("textarea", { name: "note", rows: 2, maxlength: 500, required: needsNote })));
  }
  return fields;
}

function decisionForm(model, p, kind, box, reload) {
  const form = h("form", { class: "step-form", novalidate: true, "aria-label": `${t(TITLES[kind])} ${titled(p)}` },
    h("h4", {}, t(TITLES[kind])),
    decisionFields(model, p, kind),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: kind === "reject" ? "danger" : "primary" }, t("rvConfirm")),
      h("button", { type: "button", onclick: () => mount(box) }, t("rvCancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitting(form, () => model.decide(p, kind, form));
    if (!done) return;
    toast(t(DONE[kind], { number: done.number || "" }));
    reload();
  });
  mount(box, form);
  form.querySelector("select, textarea")?.focus();
}

function windowsSection(model, reload) {
  const year = Number(model.windows.today.slice(0, 4));
  const current = model.windows.items.find((w) => w.year === year);
  const form = h("form", { class: "cols window-form", novalidate: true, "aria-label": t("rvWindows") },
    fieldBox("year", t("rvYear"), h("input", { name: "year", type: "number", min: 2000, max: 2100, required: true, value: String(year) })),
    fieldBox("opens", t("rvOpens"), h("input", { name: "opens", type: "date", required: true, value: current?.opens || "" })),
    fieldBox("closes", t("rvCloses"), h("input", { name: "closes", type: "date", required: true, value: current?.closes || "" })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("rvSaveWindow"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = (name) => form.elements[name].value;
    const saved = await submitting(form, () => saveWindow(Number(value("year")) || 0, value("opens") || null, value("closes") || null));
    if (!saved) return;
    toast(t("rvWindowSaved", { year: saved.year }));
    reload();
  });
  return h("section", { class: "card", "aria-labelledby": "rv-windows" },
    h("h2", { id: "rv-windows" }, t("rvWindows")),
    h("p", { class: "muted" }, t("rvWindowsHint")),
    model.windows.items.length
      ? h("ul", { class: "list windows" }, model.windows.items.map((w) => h("li", { dataset: { year: w.year } }, `${w.year}：${w.opens} — ${w.closes}`, " ", w.open_now ? badge(t("rvOpenNow"), "good") : null)))
      : h("p", { class: "muted" }, t("rvNoWindows")),
    form);
}
