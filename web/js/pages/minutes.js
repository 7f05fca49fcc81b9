// Minutes after the session: every field of the draft editable (summary, attendance, each item's
// notes, decisions and action items with owner unit, due date and proposal), review and
// approval with who did each step, corrections, versions, the chain check, and exports.
import { download, get, post, put, session } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { minSec, outcomeWords } from "../poll-words.js";
import { attempt, badge, fmt, h, mount, toast } from "../ui.js";
import { proposalSelect, unitSelect } from "./room-controls.js";

addTexts({
  "zh-CN": {
    present_list: "出席", attending_list: "列席", absent_list: "缺席", guests_list: "来宾",
    attendanceFix: "出席情况", moveTo: "{name} 列入", removePerson: "删除 {name}", addPerson: "添加人员",
    personName: "姓名", list: "名单", addAction: "添加落实事项", removeAction: "删除此落实事项",
    actionText: "落实事项内容", itemTitleLabel: "议题", decisionsHint: "每行一条", steps: "审核与批准记录",
    stepBy: "{status}：{who}", time: "时间", pollsAndQuestions: "表决与提问", noResults: "未计票", speakingTime: "发言时长",
    questionAnswered: "已答复", addItemMinutes: "添加议题", removeItem: "删除议题：{title}", newItem: "新议题", fromRoom: "会议室自动生成",
    noteAssembled: "根据会议室记录生成", noteLeftOut: "根据会议室记录生成；以下内容超出限制未收入：{what}",
    noteBare: "根据会议室记录生成；议题内容超出限制，需手工填写",
    consentRecord: "录制知情确认", consent_accepted: "已确认", consent_declined: "不同意（未发送音视频）",
  },
  en: {
    present_list: "Present", attending_list: "Attending", absent_list: "Absent", guests_list: "Guests",
    attendanceFix: "Attendance", moveTo: "List {name} as", removePerson: "Remove {name}", addPerson: "Add a person",
    personName: "Name", list: "List", addAction: "Add an action item", removeAction: "Remove this action item",
    actionText: "Action item", itemTitleLabel: "Item", decisionsHint: "One a line", steps: "Review and approval",
    stepBy: "{status}: {who}", time: "Time", pollsAndQuestions: "Polls and questions", noResults: "not counted", speakingTime: "Speaking time",
    questionAnswered: "answered", addItemMinutes: "Add an item", removeItem: "Remove the item: {title}", newItem: "New item", fromRoom: "written by the room",
    noteAssembled: "Assembled from the room", noteLeftOut: "Assembled from the room; left out what did not fit: {what}",
    noteBare: "Assembled from the room; its items did not fit and must be written by hand",
    consentRecord: "Recording notice acknowledged", consent_accepted: "acknowledged", consent_declined: "declined (no camera or microphone sent)",
  },
});

const LISTS = ["present", "attending", "absent", "guests"];

// ---------------------------------------------------------------- model

class MinutesModel {
  constructor(sid) {
    this.sid = sid;
  }

  async load() {
    const me = session().person;
    this.staff = me.role === "staff";
    this.reader = this.staff || me.role === "leader";
    this.minutes = await get(`/api/sessions/${this.sid}/minutes`);
    this.versions = (await get(`/api/sessions/${this.sid}/minutes/versions`)).items;
    this.units = this.staff ? (await get("/api/units").catch(() => ({ items: [] }))).items : [];
    this.content = structuredClone(this.minutes.content);
    const ids = [...new Set(this.content.items.flatMap((i) => i.proposal_ids || []))];
    const found = await Promise.all(ids.map((id) => get(`/api/proposals/${id}`).catch(() => null)));
    this.proposals = new Map(ids.map((id, k) => [id, found[k] ? `${found[k].number} ${found[k].title}` : `#${id}`]));
    for (const list of LISTS) this.content[list] ||= [];
    return this;
  }

  get editable() {
    return this.staff && this.minutes.status === "draft";
  }

  get correcting() {
    return this.staff && this.minutes.status === "approved";
  }

  save() {
    return put(`/api/sessions/${this.sid}/minutes`, { base_version: this.minutes.version, content: this.content });
  }

  move(to) {
    return post(`/api/sessions/${this.sid}/minutes/transitions`, { to, base_version: this.minutes.version });
  }

  correct(reason) {
    return post(`/api/sessions/${this.sid}/minutes/corrections`, { base_version: this.minutes.version, content: this.content, reason: reason || "更正" });
  }

  verify() {
    return get(`/api/sessions/${this.sid}/minutes/verify`);
  }

  addItem() {
    this.content.items.push({ title: t("newItem"), proposal_ids: [], notes: "", decisions: [], actions: [], speakers: [] });
  }

  removeItem(index) {
    this.content.items.splice(index, 1);
  }

  moveAttendee(from, index, to) {
    const [person] = this.content[from].splice(index, 1);
    if (to) this.content[to].push(person);
  }
}

// ---------------------------------------------------------------- view

function attendanceView(model, redraw, open) {
  const c = model.content;
  const rows = LISTS.flatMap((list) =>
    c[list].map((p, i) =>
      h(
        "li",
        { class: "row" },
        h("span", {}, p.name, p.unit ? h("small", { class: "muted" }, ` ${p.unit}`) : null),
        open
          ? h(
              "span",
              { class: "actions" },
              h(
                "select",
                { "aria-label": t("moveTo", { name: p.name }), onchange: (e) => { model.moveAttendee(list, i, e.target.value); redraw(); } },
                LISTS.map((l) => h("option", { value: l, selected: l === list }, t(`${l}_list`))),
              ),
              h("button", { type: "button", class: "small", "aria-label": t("removePerson", { name: p.name }), onclick: () => { model.moveAttendee(list, i, null); redraw(); } }, "×"),
            )
          : badge(t(`${list}_list`)),
      ),
    ),
  );
  const name = h("input", { name: "attendee", maxlength: 100 });
  const where = h("select", { name: "attendee-list" }, LISTS.map((l) => h("option", { value: l }, t(`${l}_list`))));
  return h(
    "section",
    { class: "card", "aria-labelledby": "attendance-h" },
    h("h2", { id: "attendance-h" }, t("attendanceFix")),
    h("ul", { class: "list" }, rows),
    open
      ? h(
          "form",
          { class: "send", onsubmit: (e) => { e.preventDefault(); if (!name.value.trim()) return; c[where.value].push({ name: name.value.trim() }); redraw(); } },
          h("label", {}, t("personName"), name),
          h("label", {}, t("list"), where),
          h("button", { type: "submit" }, t("addPerson")),
        )
      : null,
  );
}

function actionRow(model, item, action, index, open, redraw) {
  const label = `${item.title} ${t("actionItems")} ${index + 1}`;
  const text = h("input", { value: action.text || "", maxlength: 2000, "aria-label": `${label} ${t("actionText")}`, disabled: !open, oninput: (e) => (action.text = e.target.value) });
  const owner = unitSelect(model.units.length ? model.units : action.owner_unit_id ? [{ id: action.owner_unit_id, name: action.owner_unit || `#${action.owner_unit_id}` }] : [], action.owner_unit_id ?? null, `${label} ${t("owner")}`);
  owner.disabled = !open;
  owner.onchange = () => {
    action.owner_unit_id = owner.value ? Number(owner.value) : null;
    action.owner_unit = model.units.find((u) => u.id === action.owner_unit_id)?.name ?? null;
  };
  const due = h("input", { type: "date", value: action.due || "", "aria-label": `${label} ${t("due")}`, disabled: !open, onchange: (e) => (action.due = e.target.value || null) });
  const proposals = proposalSelect((item.proposal_ids || []).map((id) => ({ id, label: model.proposals.get(id) || `#${id}` })), action.proposal_id ?? null, `${label} ${t("proposalOf")}`);
  proposals.disabled = !open;
  proposals.onchange = () => (action.proposal_id = proposals.value ? Number(proposals.value) : null);
  return h(
    "li",
    { class: "action-row" },
    text,
    owner,
    due,
    item.proposal_ids?.length ? proposals : null,
    open ? h("button", { type: "button", class: "small", "aria-label": `${t("removeAction")}（${label}）`, onclick: () => { item.actions.splice(index, 1); redraw(); } }, "×") : null,
  );
}

function itemView(model, item, i, open, redraw) {
  const notes = h("textarea", { rows: 4, "aria-label": `${item.title} ${t("notes")}`, disabled: !open, oninput: (e) => (item.notes = e.target.value) }, item.notes);
  const decisions = h("textarea", { rows: 2, "aria-label": `${item.title} ${t("decisions")}`, disabled: !open, oninput: (e) => (item.decisions = e.target.value.split("\n").map((x) => x.trim()).filter(Boolean)) }, item.decisions.join("\n"));
  const title = h("input", { value: item.title, maxlength: 200, "aria-label": `${t("itemTitleLabel")} ${i + 1}`, disabled: !open, oninput: (e) => (item.title = e.target.value) });
  return h(
    "section",
    { class: "card" },
    h("div", { class: "row" }, h("h2", {}, `${i + 1}. ${item.title}`), open ? h("button", { type: "button", class: "small", onclick: () => { model.removeItem(i); redraw(); } }, t("removeItem", { title: item.title })) : null),
    open ? h("label", {}, t("itemTitleLabel"), title) : null,
    item.speakers.length ? h("p", { class: "muted" }, `${t("speakers")}：${item.speakers.join("、")}`) : null,
    speakingLine(item.speaking),
    h("label", {}, t("notes")),
    notes,
    h("label", {}, t("decisions"), h("small", { class: "muted" }, ` ${t("decisionsHint")}`)),
    decisions,
    h("h3", {}, t("actionItems")),
    h("ul", { class: "actions-list" }, item.actions.map((a, k) => actionRow(model, item, a, k, open, redraw))),
    open ? h("button", { type: "button", class: "small", onclick: () => { item.actions.push({ text: "", owner_unit_id: null, due: null, proposal_id: null }); redraw(); } }, `${t("addAction")}（${item.title}）`) : null,
  );
}

// Each person's time with the floor (the room measured it).
function speakingLine(speaking) {
  if (!speaking?.length) return null;
  return h("p", { class: "muted speaking" }, `${t("speakingTime")}：${speaking.map((s) => `${s.name} ${minSec(s.seconds)}`).join("、")}`);
}

function pollLine(p) {
  const tally = p.results ? p.options.map((o, i) => `${o} ${p.results[i]}`).join("，") : `${p.options.join("、")}（${t("noResults")}）`;
  const words = outcomeWords(p);
  const named = p.ballots?.length ? p.ballots.map((b) => `${b.name}：${b.choices.map((i) => p.options[i]).join("、")}`).join("；") : "";
  return h("li", {}, h("b", {}, p.question), "：", tally, words ? h("p", { class: "outcome" }, words) : null, named ? h("p", { class: "muted" }, named) : null);
}

// The room's polls (with their results) and questions, as the minutes keep them.
function pollsView(c) {
  if (!c.polls?.length && !c.questions?.length && !c.speaking?.length) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "polls-m-h" },
    h("h2", { id: "polls-m-h" }, t("pollsAndQuestions")),
    c.polls?.length ? h("ul", { class: "list" }, c.polls.map(pollLine)) : null,
    speakingLine(c.speaking),
    c.questions?.length ? h("ul", { class: "list" }, c.questions.map((q) => h("li", {}, h("b", {}, q.name), "：", q.text, q.answered ? h("small", { class: "muted" }, `（${t("questionAnswered")}）`) : null))) : null,
  );
}

// Who acknowledged (or declined) the recording notice, and when (the room's consent answers).
function consentView(c) {
  if (!c.consent?.length) return null;
  return h(
    "section",
    { class: "card", "aria-labelledby": "consent-m-h" },
    h("h2", { id: "consent-m-h" }, t("consentRecord")),
    h("ul", { class: "list consent" }, c.consent.map((a) => h("li", {}, h("b", {}, a.name), "：", t(`consent_${a.answer}`), h("small", { class: "muted" }, ` ${fmt.dateTime(a.at)}`)))),
  );
}

// The server's notes on a version it wrote itself, in the reader's language.
function noteText(note) {
  if (note === "assembled from the room") return t("noteAssembled");
  const leftOut = /^assembled from the room; left out what did not fit: (.*)$/.exec(note);
  if (leftOut) return t("noteLeftOut", { what: leftOut[1] });
  if (note.startsWith("assembled from the room; its items did not fit")) return t("noteBare");
  return note;
}

// Who did each step: every version with its status, author and time (and the note of a step).
function stepsView(model) {
  return h(
    "section",
    { class: "card", "aria-labelledby": "versions-h" },
    h("h2", { id: "versions-h" }, t("versions"), " · ", t("steps")),
    h(
      "ol",
      { class: "list steps" },
      model.versions.map((v) =>
        h(
          "li",
          { class: "row" },
          h("span", {}, `v${v.version} · `, h("b", {}, t("stepBy", { status: t(v.status), who: v.author || t("fromRoom") })), ` · ${fmt.dateTime(v.created_at)}`, v.note ? h("small", { class: "muted" }, ` ${noteText(v.note)}`) : null),
          h("code", { title: v.hash }, v.hash.slice(0, 12)),
        ),
      ),
    ),
  );
}

function draw(main, model, reload) {
  const { minutes: m, content: c } = model;
  const open = model.editable || model.correcting;
  const redraw = () => draw(main, model, reload);
  const summary = h("textarea", { rows: 3, "aria-label": t("summary"), disabled: !open, oninput: (e) => (c.summary = e.target.value) }, c.summary || "");
  const reason = h("input", { "aria-label": t("reason"), placeholder: t("reason"), maxlength: 500 });
  const chain = h("span", { role: "status" });
  const act = (fn, done) => attempt(async () => { await fn(); if (done) toast(done); reload(); });
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, `${c.title} · ${t("minutes")} `, badge(t(m.status), m.status), h("small", { class: "muted" }, ` v${m.version}`)),
      h("div", { class: "actions" }, ["docx", "md", "html"].map((ext) => h("button", { type: "button", onclick: () => attempt(() => download(`/api/sessions/${model.sid}/minutes.${ext}?version=${m.version}`, `minutes.${ext}`)) }, `${t("export")} .${ext}`))),
    ),
    h(
      "section",
      { class: "card" },
      h("p", {}, h("b", {}, `${t("time")}：`), fmt.span(c.starts_at, c.ends_at), c.place ? ` · ${c.place}` : ""),
      h("p", {}, h("b", {}, `${t("role_host")}：`), c.hosts.join("、") || t("none")),
      h("label", {}, t("summary")),
      summary,
    ),
    attendanceView(model, redraw, open),
    c.items.map((item, i) => itemView(model, item, i, open, redraw)),
    open ? h("button", { type: "button", onclick: () => { model.addItem(); redraw(); } }, t("addItemMinutes")) : null,
    pollsView(c),
    consentView(c),
    h(
      "div",
      { class: "actions sticky" },
      model.editable ? h("button", { type: "button", onclick: () => act(() => model.save(), t("save")) }, t("save")) : null,
      model.editable ? h("button", { type: "button", class: "primary", onclick: () => act(() => model.move("in_review"), t("in_review")) }, t("submitReview")) : null,
      model.staff && m.status === "in_review" ? [h("button", { type: "button", onclick: () => act(() => model.move("draft")) }, t("backToDraft")), h("button", { type: "button", class: "primary", onclick: () => act(() => model.move("approved"), t("approved")) }, t("approve"))] : null,
      model.correcting ? [reason, h("button", { type: "button", onclick: () => act(() => model.correct(reason.value)) }, t("correction"))] : null,
      model.reader ? h("button", { type: "button", onclick: () => attempt(async () => { const r = await model.verify(); chain.textContent = r.ok ? t("chainOk") : t("chainBroken", { what: r.problems.map((p) => `v${p.version} ${p.problem}`).join(", ") }); }) }, t("verify")) : null,
      chain,
    ),
    stepsView(model),
  );
}

export async function show(main, where) {
  const model = await new MinutesModel(where.id).load();
  draw(main, model, () => show(main, where));
}
