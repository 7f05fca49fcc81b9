// The audit log (staff): who did what, when, from where, filtered as GET /api/audit filters,
// newest first, page by page backwards; each row links to the object it concerns.
import { get } from "../api.js";
import { go } from "../app.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { field, fmt, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    alTitle: "审计日志", alFilters: "筛选", alActor: "操作人", alAction: "操作", alActionHint: "以“.”结尾表示一类，如 proposal.",
    alObjectType: "对象类型", alObjectId: "对象编号", alSession: "协商活动编号", alProposal: "提案编号（内部 id）",
    alFrom: "起始时间", alTo: "截止时间", alApply: "筛选", alReset: "清除筛选", alAny: "全部", alWhen: "时间",
    alObject: "对象", alAddress: "来源地址", alDetail: "详情", alOlder: "更早的记录", alNewest: "回到最新",
    alNone: "没有符合条件的记录。", alTable: "审计记录", alPages: "分页", alSystem: "系统",
    ot_person: "人员", ot_unit: "承办单位", ot_venue: "会场", ot_proposal: "提案", ot_session: "协商活动",
    ot_minutes: "会议纪要", ot_workdays: "工作日历", ot_follow_up: "督办事项", ot_attachment: "附件", ot_recording: "录像",
    ot_room: "会议室",
    "act_auth.login": "登录", "act_auth.login_failed": "登录失败", "act_person.create": "创建人员", "act_person.update": "修改人员",
    "act_person.password": "重设密码", "act_person.settings": "更改个人设置", "act_person.feed_rotate": "更换日历订阅地址", "act_unit.create": "创建承办单位",
    "act_unit.update": "修改承办单位", "act_venue.create": "创建会场", "act_venue.update": "修改会场",
    "act_workdays.upload": "上传工作日历", "act_proposal.create": "登记提案", "act_proposal.update": "修改提案",
    "act_proposal.transition": "提案流转", "act_proposal.export": "导出提案清单", "act_proposal.dossier_export": "导出办理档案",
    "act_proposal.attachment": "上传附件", "act_proposal.attachment_download": "下载附件", "act_proposal.progress": "报告办理进展",
    "act_session.create": "创建协商活动", "act_session.update": "修改协商活动", "act_session.cancel": "取消协商活动",
    "act_session.reschedule": "改期", "act_session.start": "开始会议", "act_session.end": "结束会议", "act_session.rsvp": "回复邀请",
    "act_minutes.edit": "编辑纪要", "act_minutes.correction": "更正纪要", "act_minutes.export": "导出纪要",
    "act_recording.start": "开始录制", "act_recording.stop": "停止录制", "act_recording.download": "下载录像",
    "act_room.open": "进入会议室", "act_feed.add": "添加日历订阅", "act_feed.remove": "移除日历订阅",
  },
  en: {
    alTitle: "Audit log", alFilters: "Filters", alActor: "Who", alAction: "Action", alActionHint: "end with “.” for a family, e.g. proposal.",
    alObjectType: "Object type", alObjectId: "Object id", alSession: "Session id", alProposal: "Proposal id",
    alFrom: "From", alTo: "Until", alApply: "Filter", alReset: "Clear filters", alAny: "Any", alWhen: "When",
    alObject: "Object", alAddress: "Address", alDetail: "Detail", alOlder: "Older entries", alNewest: "Back to the newest",
    alNone: "No entry matches.", alTable: "Audit entries", alPages: "Pages", alSystem: "system",
    ot_person: "Person", ot_unit: "Unit", ot_venue: "Venue", ot_proposal: "Proposal", ot_session: "Session",
    ot_minutes: "Minutes", ot_workdays: "Working days", ot_follow_up: "Follow-up", ot_attachment: "Attachment", ot_recording: "Recording",
    ot_room: "Room",
    "act_auth.login": "Signed in", "act_auth.login_failed": "Sign-in failed", "act_person.create": "Person created", "act_person.update": "Person changed",
    "act_person.password": "Password set", "act_person.settings": "Settings changed", "act_person.feed_rotate": "Calendar feed renewed", "act_unit.create": "Unit created",
    "act_unit.update": "Unit changed", "act_venue.create": "Venue created", "act_venue.update": "Venue changed",
    "act_workdays.upload": "Working days uploaded", "act_proposal.create": "Proposal registered", "act_proposal.update": "Proposal changed",
    "act_proposal.transition": "Proposal step", "act_proposal.export": "Proposal list exported", "act_proposal.dossier_export": "Dossier exported",
    "act_proposal.attachment": "File uploaded", "act_proposal.attachment_download": "File downloaded", "act_proposal.progress": "Progress reported",
    "act_session.create": "Session created", "act_session.update": "Session changed", "act_session.cancel": "Session cancelled",
    "act_session.reschedule": "Session moved", "act_session.start": "Session started", "act_session.end": "Session ended", "act_session.rsvp": "Invitation answered",
    "act_minutes.edit": "Minutes edited", "act_minutes.correction": "Minutes corrected", "act_minutes.export": "Minutes exported",
    "act_recording.start": "Recording started", "act_recording.stop": "Recording stopped", "act_recording.download": "Recording downloaded",
    "act_room.open": "Room entered", "act_feed.add": "Calendar feed added", "act_feed.remove": "Calendar feed removed",
  },
});

const PAGE = 50;
const FILTERS = ["actor_id", "action", "object_type", "object_id", "session_id", "proposal_id", "from", "to"];
const TYPES = ["person", "unit", "venue", "proposal", "session", "minutes", "workdays", "follow_up", "attachment", "recording", "room"];

// ---------------------------------------------------------------- model

function stateOf(query) {
  const state = {};
  for (const name of [...FILTERS, "before_id"]) if (query.get(name)) state[name] = query.get(name);
  return state;
}

function params(state) {
  const out = new URLSearchParams();
  for (const name of [...FILTERS, "before_id"]) if (state[name]) out.set(name, state[name]);
  return out;
}

async function load(state) {
  const query = params(state);
  query.set("limit", String(PAGE));
  const [entries, people] = await Promise.all([get(`/api/audit?${query}`), get("/api/people")]);
  return { entries, people: people.items };
}

// A local date and time (Asia/Shanghai) as the ISO instant the API takes, and back.
const toInstant = (local) => (local ? `${local}:00+08:00` : undefined);
const toLocal = (instant) => (instant ? instant.slice(0, 16) : "");

// ---------------------------------------------------------------- view

const words = (prefix, code) => {
  const text = t(`${prefix}${code}`);
  return text === `${prefix}${code}` ? code : text;
};

function objectLink(e) {
  const label = `${words("ot_", e.object_type)}${e.object_id ? ` #${e.object_id}` : ""}`;
  const href = {
    proposal: `#/proposals/${e.object_id}`,
    session: `#/sessions/${e.object_id}`,
    minutes: `#/minutes/${e.object_id}`,
    person: `#/admin/people?id=${e.object_id}`,
    unit: `#/admin/units?id=${e.object_id}`,
    venue: `#/admin/venues?id=${e.object_id}`,
    workdays: `#/admin/workdays?year=${e.object_id}`,
    follow_up: "#/follow-ups",
  }[e.object_type];
  const related = [
    e.proposal_id && e.object_type !== "proposal" ? h("a", { href: `#/proposals/${e.proposal_id}` }, `${t("ot_proposal")} #${e.proposal_id}`) : null,
    e.session_id && e.object_type !== "session" ? h("a", { href: `#/sessions/${e.session_id}` }, `${t("ot_session")} #${e.session_id}`) : null,
  ].filter(Boolean);
  return [href && (e.object_id || e.object_type !== "proposal") ? h("a", { href }, label) : label, related.map((a) => [h("br"), a])];
}

function detail(e) {
  const text = Object.entries(e.detail || {}).map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join("; ");
  return text || "—";
}

function filtersForm(state, people) {
  const input = (name, attrs = {}) => h("input", { name, value: state[name] || "", ...attrs });
  const labelled = (label, control, hint) => field(label, control, hint);
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": t("alFilters") },
    h("div", { class: "cols" },
      labelled(t("alActor"), h("select", { name: "actor_id" }, h("option", { value: "" }, t("alAny")), people.map((p) => h("option", { value: String(p.id), selected: String(p.id) === state.actor_id }, `${p.name}（${p.username}）`)))),
      labelled(t("alAction"), input("action", { maxlength: 48 }), t("alActionHint")),
      labelled(t("alObjectType"), h("select", { name: "object_type" }, h("option", { value: "" }, t("alAny")), TYPES.map((ty) => h("option", { value: ty, selected: ty === state.object_type }, t(`ot_${ty}`))))),
      labelled(t("alObjectId"), input("object_id", { type: "number", min: 1 })),
      labelled(t("alSession"), input("session_id", { type: "number", min: 1 })),
      labelled(t("alProposal"), input("proposal_id", { type: "number", min: 1 })),
      labelled(t("alFrom"), h("input", { name: "from", type: "datetime-local", value: toLocal(state.from) })),
      labelled(t("alTo"), h("input", { name: "to", type: "datetime-local", value: toLocal(state.to) }))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("alApply")), h("a", { class: "button", href: "#/audit" }, t("alReset"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = {};
    for (const name of FILTERS) next[name] = form.elements[name].value.trim() || undefined;
    next.from = toInstant(next.from);
    next.to = toInstant(next.to);
    const text = params(next).toString();
    go(`#/audit${text ? `?${text}` : ""}`);
  });
  const open = !matchMedia("(max-width: 760px)").matches || FILTERS.some((name) => state[name]);
  return h("details", { class: "card filters-box", open }, h("summary", {}, t("alFilters")), form);
}

function table(items) {
  return h(
    "div",
    { class: "table-scroll stack card", tabindex: "0", role: "region", "aria-label": t("alTable") },
    h("table", {},
      h("thead", {}, h("tr", {}, [t("alWhen"), t("alActor"), t("alAction"), t("alObject"), t("alDetail"), t("alAddress")].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, items.map((e) =>
        h("tr", { dataset: { action: e.action } },
          h("td", { dataset: { label: t("alWhen") } }, h("time", { datetime: e.at }, `${fmt.date(e.at)} ${fmt.time(e.at)}`)),
          h("td", { dataset: { label: t("alActor") } }, e.actor || t("alSystem")),
          h("td", { dataset: { label: t("alAction") } }, words("act_", e.action)),
          h("td", { dataset: { label: t("alObject") } }, objectLink(e)),
          h("td", { class: "detail", dataset: { label: t("alDetail") } }, detail(e)),
          h("td", { class: "muted", dataset: { label: t("alAddress") } }, e.address || "—"))))),
  );
}

function pager(state, entries) {
  const base = { ...state };
  delete base.before_id;
  const newest = params(base).toString();
  const older = entries.next_before_id ? params({ ...base, before_id: entries.next_before_id }).toString() : null;
  if (!older && !state.before_id) return null;
  return h("nav", { class: "actions pager", "aria-label": t("alPages") },
    state.before_id ? h("a", { class: "button", href: `#/audit${newest ? `?${newest}` : ""}` }, t("alNewest")) : null,
    older ? h("a", { class: "button", href: `#/audit?${older}`, rel: "next" }, t("alOlder")) : null);
}

function draw(main, state, { entries, people }) {
  mount(
    main,
    h("h1", {}, t("alTitle")),
    filtersForm(state, people),
    entries.items.length ? table(entries.items) : h("p", { class: "muted empty" }, t("alNone")),
    pager(state, entries),
  );
}

export async function show(main, where) {
  const state = stateOf(where.query);
  await loadPage(main, () => load(state), (data) => draw(main, state, data));
}
