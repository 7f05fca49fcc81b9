// Administration of people: create accounts; change name, role, unit, email, phone; deactivate
// and reactivate; set a new password (which signs the person out everywhere).
import { get, patch, post, session } from "../api.js";
import { fieldBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { badge, h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    apNew: "新建人员", apUsername: "用户名", apUsernameHint: "3–64 位小写字母、数字或 . _ -", apName: "姓名",
    apRole: "角色", apUnit: "所属单位", apUnitHint: "承办单位账号必填", apEmail: "电子邮箱", apPhone: "电话",
    apPassword: "初始密码", apPasswordHint: "至少 8 位，不能是常见密码，不能包含用户名；可留空，稍后设置", apNewPassword: "设置新密码",
    apNewPasswordHint: "留空则不修改；设置后该人员须重新登录", apActive: "账号启用", apActiveHint: "停用后无法登录，已登录的设备立即退出",
    apState: "状态", apOn: "启用", apOff: "已停用", apFilter: "按姓名或用户名筛选", apEditing: "修改：{name}",
    apCreated: "已创建 {name}", apNoUnit: "（无）", apList: "人员列表", apContact: "联系方式",
    role_staff: "工作人员", apLanguage: "语言", apLanguageHint: "邮件用此语言；本人也可在页面顶部切换",
    lang_zh: "中文", lang_en: "English",
  },
  en: {
    apNew: "New person", apUsername: "Username", apUsernameHint: "3–64 lowercase letters, digits or . _ -", apName: "Name",
    apRole: "Role", apUnit: "Unit", apUnitHint: "required for a unit account", apEmail: "Email", apPhone: "Phone",
    apPassword: "First password", apPasswordHint: "at least 8 characters, not a common one, without the username; may be set later", apNewPassword: "New password",
    apNewPasswordHint: "leave empty to keep it; the person must sign in again", apActive: "Account active", apActiveHint: "a deactivated person cannot sign in and is signed out now",
    apState: "State", apOn: "Active", apOff: "Deactivated", apFilter: "Filter by name or username", apEditing: "Edit: {name}",
    apCreated: "Created {name}", apNoUnit: "(none)", apList: "People", apContact: "Contact",
    role_staff: "Staff", apLanguage: "Language", apLanguageHint: "emails come in it; the person can also switch it at the top of the page",
    lang_zh: "中文", lang_en: "English",
  },
});

const ROLES = ["staff", "member", "unit", "leader", "guest"];

// ---------------------------------------------------------------- model

export async function load() {
  const [people, units] = await Promise.all([get("/api/people"), get("/api/units")]);
  return { people: people.items, units: units.items };
}

const orNull = (value) => (value.trim() === "" ? null : value.trim());

function newPerson(form) {
  const v = (name) => form.elements[name].value;
  return {
    username: v("username").trim().toLowerCase(),
    name: v("name").trim(),
    role: v("role"),
    unit_id: Number(v("unit_id")) || null,
    email: orNull(v("email")),
    phone: orNull(v("phone")),
    password: v("password") || null,
    language: v("language"),
  };
}

function changes(form) {
  const v = (name) => form.elements[name].value;
  const body = {
    name: v("name").trim(),
    role: v("role"),
    unit_id: Number(v("unit_id")) || null,
    email: orNull(v("email")),
    phone: orNull(v("phone")),
    active: form.elements.active.checked,
    language: v("language"),
  };
  if (v("password")) body.password = v("password");
  return body;
}

// ---------------------------------------------------------------- view

const roleSelect = (value) => h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === value }, t(`role_${r}`))));
const languageSelect = (value) =>
  h("select", { name: "language" },
    h("option", { value: "zh-CN", lang: "zh-CN", selected: value !== "en" }, t("lang_zh")),
    h("option", { value: "en", lang: "en", selected: value === "en" }, t("lang_en")));
const unitSelect = (units, value) =>
  h("select", { name: "unit_id" }, h("option", { value: "" }, t("apNoUnit")), units.map((u) => h("option", { value: String(u.id), selected: u.id === value }, u.name)));

function personFields(units, p) {
  return [
    fieldBox("name", t("apName"), h("input", { name: "name", required: true, maxlength: 100, value: p?.name || "", autocomplete: "off" })),
    h("div", { class: "cols" },
      fieldBox("role", t("apRole"), roleSelect(p?.role || "member")),
      fieldBox("unit_id", t("apUnit"), unitSelect(units, p?.unit_id ?? null), t("apUnitHint"))),
    h("div", { class: "cols" },
      fieldBox("email", t("apEmail"), h("input", { name: "email", type: "email", value: p?.email || "", autocomplete: "off" })),
      fieldBox("phone", t("apPhone"), h("input", { name: "phone", type: "tel", value: p?.phone || "", autocomplete: "off" }))),
    fieldBox("language", t("apLanguage"), languageSelect(p?.language), t("apLanguageHint")),
  ];
}

function createForm(units, refresh) {
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("apNew") },
    fieldBox("username", t("apUsername"), h("input", { name: "username", required: true, autocomplete: "off" }), t("apUsernameHint")),
    personFields(units, null),
    fieldBox("password", t("apPassword"), h("input", { name: "password", type: "password", autocomplete: "new-password" }), t("apPasswordHint")),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("adCreate"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const made = await submitting(form, () => post("/api/people", newPerson(form)));
    if (made) {
      toast(t("apCreated", { name: made.name }));
      refresh();
    }
  });
  return section(t("apNew"), form);
}

function editForm(box, units, p, refresh) {
  const self = p.id === session()?.person?.id;
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-label": t("apEditing", { name: p.name }) },
    h("h2", {}, t("apEditing", { name: p.name })),
    personFields(units, p),
    h("div", { class: "field", dataset: { field: "active" } },
      h("label", { class: "check" }, h("input", { type: "checkbox", name: "active", checked: p.active, disabled: self }), t("apActive")),
      h("small", { class: "muted" }, t("apActiveHint")),
      h("small", { class: "error", role: "alert", hidden: true })),
    fieldBox("password", t("apNewPassword"), h("input", { name: "password", type: "password", autocomplete: "new-password" }), t("apNewPasswordHint")),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, t("adSave")),
      h("button", { type: "button", onclick: () => mount(box) }, t("adCancel"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(form, () => patch(`/api/people/${p.id}`, changes(form)));
    if (saved) {
      toast(t("adSaved"));
      refresh();
    }
  });
  mount(box, form);
  form.elements.name.focus();
}

function peopleTable(data, box, refresh) {
  const units = new Map(data.units.map((u) => [u.id, u.name]));
  const filter = h("input", { type: "search", autocomplete: "off" });
  const rows = data.people.map((p) =>
    h("tr", { dataset: { search: `${p.name} ${p.username}` } },
      h("td", { dataset: { label: t("apName") } }, p.name, h("div", { class: "muted" }, p.username)),
      h("td", { dataset: { label: t("apRole") } }, t(`role_${p.role}`)),
      h("td", { dataset: { label: t("apUnit") } }, units.get(p.unit_id) || "—"),
      h("td", { dataset: { label: t("apContact") } }, [p.email, p.phone].filter(Boolean).join(" · ") || "—"),
      h("td", { dataset: { label: t("apState") } }, badge(p.active ? t("apOn") : t("apOff"), p.active ? "good" : "cancelled")),
      h("td", { dataset: { label: t("adActions") } }, h("button", { type: "button", class: "small", "aria-label": `${t("adEdit")} ${p.name}`, onclick: () => editForm(box, data.units, p, refresh) }, t("adEdit")))));
  filter.addEventListener("input", () => {
    const wanted = filter.value.trim().toLowerCase();
    for (const tr of rows) tr.hidden = wanted !== "" && !tr.dataset.search.toLowerCase().includes(wanted);
  });
  return section(
    t("apList"),
    fieldBox("filter", t("apFilter"), filter),
    h("div", { class: "table-scroll stack", tabindex: "0", role: "region", "aria-label": t("apList") },
      h("table", {},
        h("thead", {}, h("tr", {}, [t("apName"), t("apRole"), t("apUnit"), t("apContact"), t("apState"), t("adActions")].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, rows))),
  );
}

// `open`: the id of a person to edit straight away (the audit log links here).
export function draw(container, data, refresh, open) {
  const box = h("div", {});
  mount(container, box, peopleTable(data, box, refresh), createForm(data.units, refresh));
  const person = data.people.find((p) => p.id === open);
  if (person) editForm(box, data.units, person, refresh);
}
