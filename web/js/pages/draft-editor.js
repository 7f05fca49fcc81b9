// 提交提案 (#/my/drafts/new, #/my/drafts/{id}): a member writes a proposal — title, summary, the
// situation, the suggestions as a list (add, remove, reorder), category, suggested lead and
// co-handling units, whether it may be made public — saves it as a draft, attaches files,
// invites co-signers and submits it within the year's window.
import { get, session } from "../api.js";
import { go } from "../app.js";
import { answerBadge, createDraft, inviteCosigners, loadWindows, saveDraft, submitDraft, suggestionsEditor } from "../drafting.js";
import { fieldBox, groupBox, submitting } from "../form-errors.js";
import { fileList, fileProblem, loadRules, sizeWords, uploadFile } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed, notFound } from "../page.js";
import { attempt, badge, h, mount, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    deNew: "起草提案", deEdit: "编辑提案草稿", deTitle: "案由（标题）", deSummary: "内容摘要", deSituation: "现状与问题",
    deCategory: "类别", deLead: "建议主办单位",
    deCo: "建议协办单位", deNone: "（不指定）", dePublic: "是否同意公开", deYes: "同意公开", deNo: "不同意公开",
    deSave: "保存草稿", deSaved: "草稿已保存", deFiles: "附件", deNoFiles: "暂无附件", deAttach: "添加附件",
    deUploaded: "已上传 {name}", deCosign: "邀请联名委员", deCosignHint: "被邀请的委员确认后才会列为联名人；提交时未确认的将被移除",
    deInvite: "保存联名邀请", deInvited: "联名邀请已更新", deNoMembers: "没有其他委员可邀请", deSubmitTitle: "提交",
    deSubmit: "提交提案", deSubmitHint: "提交后不能再修改，由提案委员会进行立案审查。", deSubmitted: "提案已提交",
    deView: "查看提案", deBack: "返回我的草稿", deSaveFirst: "保存草稿后可添加附件和邀请联名。",
    mdWindowShort: "本年度提案提交时间：{opens} 至 {closes}", mdOpenShort: "正在受理", mdClosedShort: "不在受理时间内",
  },
  en: {
    deNew: "Draft a proposal", deEdit: "Edit the draft", deTitle: "Title", deSummary: "Summary", deSituation: "The situation",
    deCategory: "Category", deLead: "Suggested lead unit",
    deCo: "Suggested co-handling units", deNone: "(none)", dePublic: "May it be made public", deYes: "Yes, it may", deNo: "No",
    deSave: "Save the draft", deSaved: "Draft saved", deFiles: "Files", deNoFiles: "No files yet", deAttach: "Attach files",
    deUploaded: "Uploaded {name}", deCosign: "Invite co-signers", deCosignHint: "invited members co-sign once they accept; those who have not are dropped at submission",
    deInvite: "Save the invitations", deInvited: "Invitations updated", deNoMembers: "No other members to invite", deSubmitTitle: "Submit",
    deSubmit: "Submit the proposal", deSubmitHint: "Once submitted it cannot be changed; the committee reviews it for filing.", deSubmitted: "Proposal submitted",
    deView: "See the proposal", deBack: "Back to my drafts", deSaveFirst: "Save the draft to attach files and invite co-signers.",
    mdWindowShort: "This year's submission dates: {opens} to {closes}", mdOpenShort: "open now", mdClosedShort: "closed now",
  },
});

// ---------------------------------------------------------------- model

class DraftModel {
  constructor(id) {
    this.id = id;
    this.me = session()?.person;
    this.proposal = null;
    this.suggestions = [""];
    this.files = [];
  }

  async load() {
    const [units, members, windows] = await Promise.all([get("/api/units"), get("/api/members"), loadWindows()]);
    this.units = units.items;
    this.members = members.items.filter((m) => m.id !== this.me.id);
    this.windows = windows;
    if (this.id) {
      const [proposal, handling, rules] = await Promise.all([get(`/api/proposals/${this.id}`), get(`/api/proposals/${this.id}/handling`), loadRules()]);
      this.proposal = proposal;
      this.files = handling.attachments;
      this.rules = rules;
      this.suggestions = proposal.suggestions.length ? [...proposal.suggestions] : [""];
    }
    return this;
  }

  get editable() {
    return !this.proposal || (this.proposal.status === "draft" && this.proposal.author_id === this.me.id);
  }

  async save(body) {
    const saved = this.id ? await saveDraft(this.id, body) : await createDraft(body);
    this.proposal = saved;
    return saved;
  }

  async invite(ids) {
    this.proposal = await inviteCosigners(this.id, ids);
    return this.proposal;
  }

  submit() {
    return submitDraft(this.id);
  }
}

const checkedIds = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => Number(el.value));

function bodyOf(form, model) {
  const value = (name) => form.elements[name].value.trim();
  const lead = value("lead_unit_id") === "" ? null : Number(value("lead_unit_id"));
  const consent = form.querySelector('input[name="public"]:checked')?.value;
  return {
    title: value("title"),
    summary: value("summary"),
    situation: value("situation"),
    suggestions: model.suggestions.map((s) => s.trim()).filter(Boolean),
    category: value("category") || null,
    lead_unit_id: lead,
    co_unit_ids: checkedIds(form, "co_unit_ids").filter((u) => u !== lead),
    public: consent === undefined ? null : consent === "yes",
  };
}

// ---------------------------------------------------------------- view

export async function show(main, where) {
  if (!["member", "leader"].includes(session()?.person?.role)) {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new DraftModel(where.id);
  return loadPage(main, () => model.load(), () => draw(main, model));
}

function unitsFields(model, p) {
  const lead = h("select", { name: "lead_unit_id" }, h("option", { value: "" }, t("deNone")),
    model.units.map((u) => h("option", { value: String(u.id), selected: u.id === p?.lead_unit_id }, u.name)));
  return [
    fieldBox("lead_unit_id", t("deLead"), lead),
    groupBox("co_unit_ids", t("deCo"), model.units.map((u) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "co_unit_ids", value: String(u.id), checked: (p?.co_unit_ids || []).includes(u.id) }), u.name))),
  ];
}

function consentField(p) {
  const radio = (value, label) => h("label", { class: "check" }, h("input", { type: "radio", name: "public", value, checked: p?.public === (value === "yes") && p?.public != null }), label);
  return groupBox("public", t("dePublic"), radio("yes", t("deYes")), radio("no", t("deNo")));
}

function draftForm(model) {
  const p = model.proposal;
  const form = h(
    "form",
    { class: "card draft-form", novalidate: true },
    fieldBox("title", t("deTitle"), h("input", { name: "title", required: true, maxlength: 200, value: p?.title || "" })),
    fieldBox("summary", t("deSummary"), h("textarea", { name: "summary", rows: 3 }, p?.summary || "")),
    fieldBox("situation", t("deSituation"), h("textarea", { name: "situation", rows: 5 }, p?.situation || "")),
    suggestionsEditor(model),
    fieldBox("category", t("deCategory"), h("input", { name: "category", maxlength: 50, value: p?.category || "" })),
    unitsFields(model, p),
    consentField(p),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("deSave")), h("a", { class: "button", href: "#/my/drafts" }, t("deBack"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const isNew = !model.id;
    const saved = await submitting(form, () => model.save(bodyOf(form, model)));
    if (!saved) return;
    toast(t("deSaved"));
    if (isNew) go(`#/my/drafts/${saved.id}`);
  });
  return form;
}

function filesSection(model) {
  const list = h("div", {}, model.files.length ? fileList(model.files) : h("p", { class: "muted" }, t("deNoFiles")));
  const picker = h("input", { type: "file", multiple: true });
  const status = h("div", { role: "status", "aria-live": "polite" });
  picker.addEventListener("change", async () => {
    for (const file of [...picker.files]) {
      if (fileProblem(file, model.rules)) {
        status.append(h("p", { class: "error" }, `${file.name}：${sizeWords(file.size)}`));
        continue;
      }
      const stored = await attempt(() => uploadFile(model.id, file, model.rules, () => {}));
      if (!stored) continue;
      model.files.push(stored);
      mount(list, fileList(model.files));
      status.append(h("p", {}, t("deUploaded", { name: stored.name })));
    }
    picker.value = "";
  });
  return h("section", { class: "card", "aria-labelledby": "de-files" }, h("h2", { id: "de-files" }, t("deFiles")), list, fieldBox("files", t("deAttach"), picker), status);
}

function cosignSection(model) {
  const invited = new Map(model.proposal.cosigners.map((c) => [c.person_id, c.answer]));
  const form = h("form", { class: "card cosign-form", novalidate: true, "aria-labelledby": "de-cosign" },
    h("h2", { id: "de-cosign" }, t("deCosign")),
    h("p", { class: "muted" }, t("deCosignHint")),
    model.members.length
      ? groupBox("person_ids", t("deCosign"), model.members.map((m) =>
          h("label", { class: "check", dataset: { name: m.name } }, h("input", { type: "checkbox", name: "person_ids", value: String(m.id), checked: invited.has(m.id) }), m.name, invited.has(m.id) ? [" ", answerBadge(invited.get(m.id))] : null)))
      : h("p", { class: "muted" }, t("deNoMembers")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, t("deInvite"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(form, () => model.invite(checkedIds(form, "person_ids")));
    if (!saved) return;
    toast(t("deInvited"));
    form.replaceWith(cosignSection(model));
  });
  return form;
}

function submitSection(main, model, form) {
  const year = Number(model.windows.today.slice(0, 4));
  const w = model.windows.items.find((x) => x.year === year);
  const box = h("div", { class: "submit-result", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "button", class: "primary" }, t("deSubmit"));
  button.addEventListener("click", async () => {
    button.disabled = true;
    const saved = await submitting(form, () => model.save(bodyOf(form, model)));
    const done = saved ? await attempt(() => model.submit()) : null;
    button.disabled = false;
    if (done) mount(main, resultCard(done));
  });
  return h("section", { class: "card", "aria-labelledby": "de-submit" },
    h("h2", { id: "de-submit" }, t("deSubmitTitle")),
    w ? h("p", {}, t("mdWindowShort", { opens: w.opens, closes: w.closes }), " ", badge(w.open_now ? t("mdOpenShort") : t("mdClosedShort"), w.open_now ? "good" : "warn")) : null,
    h("p", { class: "muted" }, t("deSubmitHint")), button, box);
}

function resultCard(done) {
  return h("section", { class: "card submitted", role: "status", dataset: { proposal: done.id } },
    h("h1", {}, t("deSubmitted")),
    h("p", {}, done.message),
    done.dropped_cosigners.length ? h("ul", { class: "list dropped" }, done.dropped_cosigners.map((c) => h("li", {}, c.name, " ", answerBadge(c.answer)))) : null,
    h("div", { class: "actions" }, h("a", { class: "button primary", href: `#/proposals/${done.id}` }, t("deView")), h("a", { class: "button", href: "#/my/drafts" }, t("deBack"))));
}

function draw(main, model) {
  if (model.proposal && !model.editable) {
    if (model.proposal.status !== "draft") go(`#/proposals/${model.proposal.id}`);
    else mount(main, notFound());
    return;
  }
  const form = draftForm(model);
  mount(
    main,
    h("h1", {}, model.id ? t("deEdit") : t("deNew")),
    form,
    model.id ? [filesSection(model), cosignSection(model), submitSection(main, model, form)] : h("p", { class: "muted" }, t("deSaveFirst")),
  );
}
