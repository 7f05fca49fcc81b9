// Staff schedule a session, or edit one (#/sessions/N/edit): kind from its template, mode,
// venue, topic, linked proposals and stage, an agenda editor, participants with role and
// attendance, visibility, quarterly recurrence; live conflict and working-day warnings.
import { get, patch, post, session as me } from "../api.js";
import { go } from "../app.js";
import { addTexts, lang, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import {
  KINDS,
  MODES,
  QUARTERLY,
  ROLES,
  STAGES,
  addItem,
  applyTemplate,
  bodyOf,
  choose,
  draftOf,
  link,
  moveItem,
  newDraft,
  removeItem,
  times,
  workdayOf,
} from "../session-form.js";
import { dayOf, field, fmt, h, mount, select, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    editSession: "修改协商", lobbySetting: "来宾入场", lobby_host_admits: "在等候室等候主持人准入",
    lobby_none: "直接进入会议室", lobbyHint: "仅对扫码参加的来宾有效", recordingSetting: "会议录制",
    recording_off: "不录制", recording_ask: "征得与会者同意后录制", recording_on: "开始会议时自动录制",
    recordingHint: "按协商类型的默认设置，可修改", linkedProposals: "关联提案", stageHint: "办理协商须注明协商阶段",
    itemName: "第 {n} 项 名称", itemProposal: "第 {n} 项 关联提案", itemPresenter: "第 {n} 项 主讲人",
    itemMinutes: "第 {n} 项 计划分钟", moveUp: "上移第 {n} 项", moveDown: "下移第 {n} 项",
    removeItem: "删除第 {n} 项", addItem: "添加议程", noneChosen: "（无）", repeat: "每季度重复", repeatOwn: "重复（保持原有规则）",
    repeatEnd: "重复结束", byCount: "按次数", byDate: "按日期", byUntil: "截止日期", count: "次数",
    extraDates: "补充日期", extraDate: "补充日期 {n}", addDate: "添加日期", removeDate: "删除补充日期 {n}",
    attendanceOf: "{name} 参会方式", holidayWarn: "{day} 是法定节假日（{name}），不是工作日。",
    weekendWarn: "{day} 是周末，不是工作日。", swappedNote: "{day} 是调休上班日（{name}）。",
    willSend: "保存后将发送：", sendUpdate: "更新邀请 → {names}", sendNew: "新邀请 → {names}",
    sendCancel: "取消通知 → {names}", saved: "已保存", cancelEdit: "放弃修改", untitled: "（未命名）",
  },
  en: {
    editSession: "Edit session", lobbySetting: "Guests", lobby_host_admits: "wait in the lobby until a host admits them",
    lobby_none: "enter the room directly", lobbyHint: "for guests joining by QR code", recordingSetting: "Recording",
    recording_off: "no recording", recording_ask: "record once participants agree", recording_on: "record from the start",
    recordingHint: "the kind's default; change it if needed", linkedProposals: "Linked proposals", stageHint: "Handling consultations need a stage",
    itemName: "Item {n} name", itemProposal: "Item {n} proposal", itemPresenter: "Item {n} presenter",
    itemMinutes: "Item {n} planned minutes", moveUp: "Move item {n} up", moveDown: "Move item {n} down",
    removeItem: "Remove item {n}", addItem: "Add an item", noneChosen: "(none)", repeat: "Repeat every quarter", repeatOwn: "Repeats (its own rule kept)",
    repeatEnd: "Repeat ends", byCount: "After a number of times", byDate: "On a date", byUntil: "Last date", count: "Times",
    extraDates: "Extra dates", extraDate: "Extra date {n}", addDate: "Add a date", removeDate: "Remove extra date {n}",
    attendanceOf: "{name} attendance", holidayWarn: "{day} is a public holiday ({name}), not a working day.",
    weekendWarn: "{day} is a weekend day, not a working day.", swappedNote: "{day} is a working day in lieu ({name}).",
    willSend: "Saving sends:", sendUpdate: "updated invitations → {names}", sendNew: "new invitations → {names}",
    sendCancel: "cancellations → {names}", saved: "Saved", cancelEdit: "Discard changes", untitled: "(untitled)",
  },
});

const option = (value, label, current) => h("option", { value: value ?? "", selected: (value ?? null) === (current ?? null) }, label);
const asId = (value) => (value ? Number(value) : null);

async function load(where) {
  const [people, venues, templates, proposals, existing] = await Promise.all([
    get("/api/people"),
    get("/api/venues"),
    get("/api/session-templates"),
    get("/api/proposals?limit=500"),
    where.id ? get(`/api/sessions/${where.id}`) : null,
  ]);
  return { people: people.items.filter((p) => p.role !== "guest"), venues: venues.items, templates: templates.items, proposals: proposals.items, existing };
}

export async function show(main, where) {
  if (me().person.role !== "staff") {
    mount(main, notAllowed());
    return;
  }
  await loadPage(main, () => load(where), (data) => draw(main, data));
}

function draw(main, data) {
  const template = (kind) => data.templates.find((x) => x.kind === kind);
  const draft = data.existing ? draftOf(data.existing) : newDraft(template("handling"), dayOf(new Date(Date.now() + 86400_000)));
  if (!data.existing) draft.venue_id = data.venues[0]?.id ?? null;
  const view = new FormView(main, draft, data, template);
  view.render();
}

// The form's DOM: each part re-drawn from the draft when what it shows changes.
class FormView {
  constructor(main, draft, data, template) {
    Object.assign(this, { main, draft, data, template, agendaTouched: Boolean(data.existing), pending: 0 });
    this.parts = {};
    for (const name of ["stage", "proposals", "agenda", "people", "recurrence", "workday", "conflicts", "sending"]) this.parts[name] = h("div", { class: `part-${name}` });
    this.keep = h("input", { type: "checkbox", name: "allow_conflicts" });
    this.slots = h("div", { class: "slots" });
  }

  render() {
    const d = this.draft;
    const kind = select("kind", KINDS.map((k) => [k, t(`kind_${k}`)]), d.kind);
    kind.addEventListener("change", () => {
      applyTemplate(d, this.template(kind.value), this.agendaTouched);
      this.render();
    });
    const mode = select("mode", MODES.map((k) => [k, t(`mode_${k}`)]), d.mode);
    mode.addEventListener("change", () => {
      d.mode = mode.value;
      this.drawPeople();
    });
    const visibility = select("visibility", [["private", t("private")], ["public", t("public")]], d.visibility);
    visibility.addEventListener("change", () => (d.visibility = visibility.value));
    const lobby = select("lobby", [["host_admits", t("lobby_host_admits")], ["none", t("lobby_none")]], d.lobby);
    lobby.addEventListener("change", () => (d.lobby = lobby.value));
    const recording = select("recording", ["off", "ask", "on"].map((r) => [r, t(`recording_${r}`)]), d.recording);
    recording.addEventListener("change", () => (d.recording = recording.value));
    const title = h("input", { name: "title", required: true, maxlength: 200, value: d.title, oninput: () => (d.title = title.value) });
    const topic = h("textarea", { name: "topic", maxlength: 2000, rows: 2, oninput: () => (d.topic = topic.value) }, d.topic);
    const when = (name, type, key) => {
      const input = h("input", { name, type, value: d[key], required: true });
      input.addEventListener("change", () => {
        d[key] = input.value;
        this.check();
      });
      return input;
    };
    const venue = h("select", { name: "venue" }, option(null, "—", d.venue_id), this.data.venues.map((v) => option(v.id, v.name, d.venue_id)));
    venue.addEventListener("change", () => {
      d.venue_id = asId(venue.value);
      this.check();
    });
    const form = h(
      "form",
      { class: "card", novalidate: true, onsubmit: (event) => this.submit(event) },
      h("h1", {}, d.id ? t("editSession") : t("newSession")),
      h("div", { class: "cols" }, field(t("kind"), kind), this.parts.stage, field(t("mode"), mode), field(t("visibility"), visibility)),
      field(t("title"), title),
      field(t("topic"), topic),
      h("div", { class: "cols" }, field(t("lobbySetting"), lobby, t("lobbyHint")), field(t("recordingSetting"), recording, t("recordingHint"))),
      h("div", { class: "cols" }, field(t("date"), when("date", "date", "day")), field(t("start"), when("start", "time", "start")), field(t("end"), when("end", "time", "end")), field(t("venue"), venue)),
      this.parts.workday,
      this.parts.recurrence,
      this.parts.proposals,
      this.parts.agenda,
      this.parts.people,
      this.parts.conflicts,
      this.parts.sending,
      h(
        "div",
        { class: "actions" },
        d.id ? null : h("button", { type: "button", onclick: () => this.findSlots() }, t("findSlots")),
        h("button", { type: "submit", class: "primary" }, d.id ? t("save") : t("create")),
        d.id ? h("a", { class: "button", href: `#/sessions/${d.id}` }, t("cancelEdit")) : null,
      ),
      this.slots,
    );
    for (const part of ["Stage", "Proposals", "Agenda", "People", "Recurrence"]) this[`draw${part}`]();
    mount(this.main, form);
    title.focus();
    this.check();
  }

  drawStage() {
    const d = this.draft;
    if (d.kind !== "handling") {
      mount(this.parts.stage);
      return;
    }
    const stage = select("stage", STAGES.map((k) => [k, t(`stage_${k}`)]), d.stage || "during");
    stage.addEventListener("change", () => (d.stage = stage.value));
    d.stage = stage.value;
    mount(this.parts.stage, field(t("compliance"), stage, t("stageHint")));
  }

  drawProposals() {
    const d = this.draft;
    const boxes = this.data.proposals.map((p) => {
      const box = h("input", { type: "checkbox", id: `pr-${p.id}`, checked: d.proposal_ids.includes(p.id) });
      box.addEventListener("change", () => {
        link(d, p, box.checked, this.data.people);
        this.drawAgenda();
        this.drawPeople();
        this.check();
      });
      return h("div", { class: "person" }, box, h("label", { for: `pr-${p.id}` }, `${p.number} ${p.title}`));
    });
    mount(this.parts.proposals, h("fieldset", { class: "people proposals" }, h("legend", {}, t("linkedProposals")), boxes.length ? boxes : h("p", { class: "muted" }, t("none"))));
  }

  drawAgenda(focus) {
    const d = this.draft;
    const touched = () => (this.agendaTouched = true);
    const chosen = this.data.people.filter((p) => d.participants.has(p.id));
    const linked = this.data.proposals.filter((p) => d.proposal_ids.includes(p.id));
    const rows = d.agenda.map((item, i) => {
      const n = i + 1;
      const name = h("input", { value: item.title, maxlength: 200, "aria-label": t("itemName", { n }), oninput: () => { item.title = name.value; touched(); } });
      const proposal = h("select", { "aria-label": t("itemProposal", { n }) }, option(null, t("noneChosen"), item.proposal_id), linked.map((p) => option(p.id, `${p.number} ${p.title}`, item.proposal_id)));
      proposal.addEventListener("change", () => { item.proposal_id = asId(proposal.value); touched(); });
      const presenter = h("select", { "aria-label": t("itemPresenter", { n }) }, option(null, t("noneChosen"), item.presenter_id), chosen.map((p) => option(p.id, p.name, item.presenter_id)));
      presenter.addEventListener("change", () => { item.presenter_id = asId(presenter.value); touched(); });
      const minutes = h("input", { type: "number", min: 1, max: 600, value: item.planned_minutes ?? "", "aria-label": t("itemMinutes", { n }), oninput: () => { item.planned_minutes = minutes.value ? Number(minutes.value) : null; touched(); } });
      const move = (delta, label, key) =>
        h("button", { type: "button", class: "small", "data-move": `${i}${key}`, "aria-label": label, disabled: i + delta < 0 || i + delta >= d.agenda.length, onclick: () => {
          const to = moveItem(d, i, delta);
          touched();
          this.drawAgenda(`${to}${key}`);
        } }, key === "u" ? "↑" : "↓");
      const remove = h("button", { type: "button", class: "small", "aria-label": t("removeItem", { n }), onclick: () => { removeItem(d, i); touched(); this.drawAgenda(); } }, "✕");
      return h("li", { class: "agenda-row" }, name, proposal, presenter, minutes, h("span", { class: "actions" }, move(-1, t("moveUp", { n }), "u"), move(1, t("moveDown", { n }), "d"), remove));
    });
    mount(
      this.parts.agenda,
      h("fieldset", { class: "agenda-editor" }, h("legend", {}, t("agenda")), h("ol", { class: "list" }, rows), h("button", { type: "button", class: "small", onclick: () => { addItem(d); touched(); this.drawAgenda(`${d.agenda.length - 1}n`); } }, t("addItem"))),
    );
    if (focus?.endsWith("n")) this.parts.agenda.querySelectorAll("li input")[Number.parseInt(focus, 10)]?.focus();
    else if (focus) {
      const button = this.parts.agenda.querySelector(`[data-move="${focus}"]`);
      (button && !button.disabled ? button : this.parts.agenda.querySelector(`[data-move^="${Number.parseInt(focus, 10)}"]:not([disabled])`))?.focus();
    }
  }

  drawPeople() {
    const d = this.draft;
    const rows = this.data.people.map((p) => {
      const chosen = d.participants.get(p.id);
      const box = h("input", { type: "checkbox", value: p.id, id: `p-${p.id}`, checked: Boolean(chosen) });
      box.addEventListener("change", () => {
        choose(d, p, box.checked);
        this.drawPeople();
        this.drawAgenda();
        this.check();
        document.getElementById(`p-${p.id}`)?.focus();
      });
      const role = select(`role-${p.id}`, ROLES.map((r) => [r, t(`role_${r}`)]), chosen?.role || "member");
      role.setAttribute("aria-label", `${p.name} ${t("role")}`);
      role.disabled = !chosen;
      role.addEventListener("change", () => (d.participants.get(p.id).role = role.value));
      const fixed = d.mode === "hybrid" ? null : d.mode;
      const attendance = h(
        "select",
        { "aria-label": t("attendanceOf", { name: p.name }), disabled: !chosen || Boolean(fixed) },
        option(null, "—", fixed || chosen?.attendance),
        ["in_person", "remote"].map((a) => option(a, t(a === "in_person" ? "inPerson" : "remote"), fixed || chosen?.attendance)),
      );
      attendance.addEventListener("change", () => (d.participants.get(p.id).attendance = attendance.value || null));
      return h("div", { class: "person wide" }, box, h("label", { for: `p-${p.id}` }, p.name), role, attendance);
    });
    mount(this.parts.people, h("fieldset", { class: "people wide-people" }, h("legend", {}, t("participants")), rows));
  }

  drawRecurrence() {
    const d = this.draft;
    const on = h("input", { type: "checkbox", id: "repeat", checked: Boolean(d.recurrence) });
    on.addEventListener("change", () => {
      d.recurrence = on.checked ? { end: "count", count: 4, until: "", extra: [] } : null;
      this.drawRecurrence();
      document.getElementById("repeat")?.focus();
    });
    const r = d.recurrence;
    const own = r?.base && r.base !== QUARTERLY; // a series made elsewhere keeps its rule
    const head = h("label", { class: "check", for: "repeat" }, on, own ? t("repeatOwn") : t("repeat"));
    if (!r) {
      mount(this.parts.recurrence, h("div", { class: "field" }, head));
      return;
    }
    const radios = {};
    const radio = (value, label) => {
      radios[value] = h("input", { type: "radio", name: "repeat-end", value, checked: r.end === value });
      radios[value].addEventListener("change", () => (r.end = value));
      return h("label", { class: "check" }, radios[value], label);
    };
    const ends = (value) => {
      r.end = value;
      radios[value].checked = true;
    };
    const count = h("input", { type: "number", min: 1, max: 40, value: r.count, oninput: () => { r.count = Number(count.value); ends("count"); } });
    const until = h("input", { type: "date", value: r.until, oninput: () => { r.until = until.value; ends("until"); } });
    const extras = r.extra.map((day, i) => {
      const input = h("input", { type: "date", value: day, "aria-label": t("extraDate", { n: i + 1 }), oninput: () => (r.extra[i] = input.value) });
      return h("li", { class: "row" }, input, h("button", { type: "button", class: "small", "aria-label": t("removeDate", { n: i + 1 }), onclick: () => { r.extra.splice(i, 1); this.drawRecurrence(); } }, "✕"));
    });
    mount(
      this.parts.recurrence,
      h(
        "fieldset",
        { class: "people recurrence" },
        h("legend", {}, head),
        h("div", { role: "radiogroup", "aria-label": t("repeatEnd") }, radio("count", t("byCount")), radio("until", t("byDate"))),
        h("div", { class: "cols" }, field(t("count"), count), field(t("byUntil"), until)),
        h("div", {}, h("h3", {}, t("extraDates")), h("ul", { class: "list" }, extras), h("button", { type: "button", class: "small", onclick: () => { r.extra.push(""); this.drawRecurrence(); this.parts.recurrence.querySelector("li:last-child input")?.focus(); } }, t("addDate"))),
      ),
    );
  }

  async check() {
    const d = this.draft;
    const ticket = ++this.pending;
    this.drawSending();
    if (!d.day || !d.start || !d.end || d.end <= d.start) {
      mount(this.parts.conflicts);
      mount(this.parts.workday);
      return;
    }
    const [found, workday] = await Promise.all([
      post("/api/schedule/check", { ...times(d), person_ids: [...d.participants.keys()], venue_id: d.venue_id, session_id: d.id }).catch((error) => error),
      workdayOf(d.day),
    ]);
    if (ticket !== this.pending) return;
    mount(this.parts.workday, workdayNotice(d.day, workday));
    if (found instanceof Error) {
      mount(this.parts.conflicts, h("div", { class: "alert warn" }, found.message));
      return;
    }
    mount(
      this.parts.conflicts,
      found.items.length
        ? h(
            "div",
            { class: "alert warn", role: "status" },
            h("strong", {}, `${t("conflicts")}（${found.items.length}）`),
            h("ul", {}, found.items.map((c) => h("li", {}, `${c.name}：${c.session_title || "忙碌"} ${fmt.dateTime(c.starts_at)}–${fmt.time(c.ends_at)}`))),
            h("label", { class: "check" }, this.keep, t("keepAnyway")),
          )
        : h("div", { class: "alert good", role: "status" }, t("noConflicts")),
    );
  }

  // For an edit: which invitations saving will send, and to whom.
  drawSending() {
    const old = this.data.existing;
    if (!old) return;
    const names = (ids) => ids.map((id) => this.data.people.find((p) => p.id === id)?.name || old.participants.find((p) => p.person_id === id)?.name).join("、");
    const before = old.participants.map((p) => p.person_id);
    const now = [...this.draft.participants.keys()];
    const lines = [
      ["sendUpdate", before.filter((id) => now.includes(id))],
      ["sendNew", now.filter((id) => !before.includes(id))],
      ["sendCancel", before.filter((id) => !now.includes(id))],
    ].filter(([, ids]) => ids.length);
    mount(this.parts.sending, h("div", { class: "alert info" }, h("strong", {}, t("willSend")), h("ul", {}, lines.map(([key, ids]) => h("li", {}, t(key, { names: names(ids) }))))));
  }

  async findSlots() {
    const d = this.draft;
    const required = [...d.participants.keys()];
    if (!required.length) {
      toast(t("participants"));
      return;
    }
    const [sh, sm] = d.start.split(":").map(Number);
    const [eh, em] = d.end.split(":").map(Number);
    const from = new Date(`${d.day}T00:00:00+08:00`);
    try {
      const found = await post("/api/schedule/find-slots", {
        required_ids: required,
        venue_id: d.venue_id,
        duration_minutes: Math.max(15, eh * 60 + em - (sh * 60 + sm)),
        window_start: from.toISOString(),
        window_end: new Date(from.getTime() + 14 * 86400_000).toISOString(),
        limit: 6,
      });
      mount(this.slots, h("h3", {}, t("slots")), h("div", { class: "actions" }, found.items.map((slot) =>
        h("button", { type: "button", class: "small", onclick: () => {
          Object.assign(d, { day: dayOf(new Date(slot.starts_at)), start: fmt.time(slot.starts_at), end: fmt.time(slot.ends_at) });
          this.render();
        } }, fmt.dateTime(slot.starts_at)),
      )));
    } catch (error) {
      toast(error.message);
    }
  }

  async submit(event) {
    event.preventDefault();
    const d = this.draft;
    const body = bodyOf(d, this.keep.checked);
    try {
      const saved = d.id ? await patch(`/api/sessions/${d.id}`, body) : await post("/api/sessions", body);
      toast(d.id ? t("saved") : t("create"));
      go(`#/sessions/${saved.id}`);
    } catch (error) {
      toast(error.message);
      this.check();
    }
  }
}

function workdayNotice(day, workday) {
  const shown = new Intl.DateTimeFormat(lang, { month: "long", day: "numeric", weekday: "short", timeZone: "Asia/Shanghai" }).format(new Date(`${day}T12:00:00+08:00`));
  if (workday.why === "holiday") return h("div", { class: "alert caution", role: "status" }, t("holidayWarn", { day: shown, name: workday.name }));
  if (workday.why === "weekend") return h("div", { class: "alert caution", role: "status" }, t("weekendWarn", { day: shown }));
  if (workday.why === "swapped") return h("div", { class: "alert info", role: "status" }, t("swappedNote", { day: shown, name: workday.name }));
  return null;
}
