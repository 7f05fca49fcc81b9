// Administration of the undertaking units and their contact people.
import { get, patch, post } from "../api.js";
import { fieldBox, groupBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    auNew: "新建承办单位", auName: "单位名称", auContacts: "联系人", auList: "承办单位列表", auEditing: "修改：{name}",
    auCreated: "已创建 {name}", auNoContacts: "未指定", auNoPeople: "还没有可选的人员",
  },
  en: {
    auNew: "New unit", auName: "Unit name", auContacts: "Contact people", auList: "Units", auEditing: "Edit: {name}",
    auCreated: "Created {name}", auNoContacts: "none yet", auNoPeople: "No people to choose from yet",
  },
});

// ---------------------------------------------------------------- model

export async function load() {
  const [units, people] = await Promise.all([get("/api/units"), get("/api/people")]);
  return { units: units.items, people: people.items.filter((p) => p.active && p.role !== "guest") };
}

function bodyOf(form) {
  return {
    name: form.elements.name.value.trim(),
    contact_ids: [...form.querySelectorAll('input[name="contact_ids"]:checked')].map((el) => Number(el.value)),
  };
}

// ---------------------------------------------------------------- view

function unitFields(people, unit) {
  const chosen = (unit?.contacts || []).map((c) => c.id);
  return [
    fieldBox("name", t("auName"), h("input", { name: "name", required: true, maxlength: 200, value: unit?.name || "", autocomplete: "off" })),
    groupBox("contact_ids", t("auContacts"), people.length
      ? people.map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "contact_ids", value: String(p.id), checked: chosen.includes(p.id) }), p.name))
      : h("p", { class: "muted" }, t("auNoPeople"))),
  ];
}

function unitForm(label, people, unit, send, done, cancel) {
  const form = h(
    "form",
    { novalidate: true, "aria-label": label },
    unitFields(people, unit),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, unit ? t("adSave") : t("adCreate")), cancel),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(form, () => send(bodyOf(form)));
    if (saved) done(saved);
  });
  return form;
}

function edit(box, people, unit, refresh) {
  const cancel = h("button", { type: "button", onclick: () => mount(box) }, t("adCancel"));
  const label = t("auEditing", { name: unit.name });
  const form = unitForm(label, people, unit, (body) => patch(`/api/units/${unit.id}`, body), () => { toast(t("adSaved")); refresh(); }, cancel);
  mount(box, h("section", { class: "card" }, h("h2", {}, label), form));
  form.elements.name.focus();
}

// `open`: the id of a unit to edit straight away (the audit log links here).
export function draw(container, data, refresh, open) {
  const box = h("div", {});
  const list = section(
    t("auList"),
    data.units.length
      ? h("ul", { class: "list" }, data.units.map((u) =>
          h("li", { class: "row" },
            h("div", {}, h("b", {}, u.name), h("div", { class: "muted" }, `${t("auContacts")}：`, u.contacts.map((c) => c.name).join("、") || t("auNoContacts"))),
            h("button", { type: "button", class: "small", "aria-label": `${t("adEdit")} ${u.name}`, onclick: () => edit(box, data.people, u, refresh) }, t("adEdit")))))
      : h("p", { class: "muted" }, t("none")),
  );
  const create = unitForm(t("auNew"), data.people, null, (body) => post("/api/units", body), (made) => { toast(t("auCreated", { name: made.name })); refresh(); }, null);
  mount(container, box, list, section(t("auNew"), create));
  const unit = data.units.find((u) => u.id === open);
  if (unit) edit(box, data.people, unit, refresh);
}
