// Staff register a proposal (#/proposals/new) or edit one (#/proposals/{id}/edit): number,
// title, summary, proposers (people or a group), category, key flag and supervising leader,
// lead and co-handling units, and its 1+N bundle.
import { get, patch, post } from "../api.js";
import { go } from "../app.js";
import { suggestionsEditor } from "../drafting.js";
import { fieldBox, groupBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { attempt, badge, h, mount, section, titled } from "../ui.js";

addTexts({
  "zh-CN": {
    pfNew: "登记提案", pfEdit: "修改提案", pfNumber: "提案编号", pfNumberHint: "年份-四位序号，如 2026-0123",
    pfTitle: "案由（标题）", pfSummary: "内容摘要", pfCategory: "类别", pfCategoryHint: "如：城乡建设、教育、医疗卫生",
    pfProposers: "提案人（委员）", pfFilter: "按姓名筛选委员", pfGroup: "集体提案人（党派、界别或专委会）",
    pfGroupHint: "没有个人提案人时必填", pfKey: "重点提案", pfSupervisor: "督办领导", pfNoOne: "（无）",
    pfLead: "主办单位", pfCo: "协办单位", pfBundle: "1+N 打包办理", pfBundleLead: "并入以下牵头提案办理",
    pfBundleHint: "选择牵头提案后，本提案与之一并协商办理", pfNotBundled: "（不打包，独立办理）",
    pfLeads: "本提案牵头办理以下提案：", pfRemove: "移出", pfAddToBundle: "把其他提案并入本提案",
    pfAdd: "并入", pfSave: "保存", pfRegister: "登记", pfCancel: "取消", pfSaved: "已保存",
    pfBundleLeadMark: "牵头", pfNoMembers: "没有可选的委员",
  },
  en: {
    pfNew: "Register a proposal", pfEdit: "Edit the proposal", pfNumber: "Number", pfNumberHint: "year-four digits, e.g. 2026-0123",
    pfTitle: "Title", pfSummary: "Summary", pfCategory: "Category", pfCategoryHint: "e.g. urban construction, education, health",
    pfProposers: "Proposers (members)", pfFilter: "Filter members by name", pfGroup: "Group proposer (party, sector or committee)",
    pfGroupHint: "required when no person proposes it", pfKey: "Key proposal", pfSupervisor: "Supervising leader", pfNoOne: "(none)",
    pfLead: "Lead unit", pfCo: "Co-handling units", pfBundle: "1+N bundle", pfBundleLead: "Handle it in the bundle of",
    pfBundleHint: "a bundle is consulted and handled together with its lead proposal", pfNotBundled: "(not bundled)",
    pfLeads: "This proposal leads the bundle of:", pfRemove: "Remove", pfAddToBundle: "Bring another proposal into this bundle",
    pfAdd: "Add", pfSave: "Save", pfRegister: "Register", pfCancel: "Cancel", pfSaved: "Saved",
    pfBundleLeadMark: "lead", pfNoMembers: "No members to choose from",
  },
});

// ---------------------------------------------------------------- model

async function load(id) {
  const [units, people, list, proposal] = await Promise.all([
    get("/api/units"),
    get("/api/people"),
    get("/api/proposals?limit=500&sort=-number"),
    id ? get(`/api/proposals/${id}`) : null,
  ]);
  const active = people.items.filter((p) => p.active);
  return {
    proposal,
    units: units.items,
    proposers: active.filter((p) => p.role === "member" || p.role === "leader"),
    leaders: active.filter((p) => p.role === "leader"),
    proposals: list.items,
  };
}

const ids = (form, name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => Number(el.value));
const orNull = (value) => (value === "" ? null : value);
const idOrNull = (value) => (value === "" ? null : Number(value));

function bodyOf(form, editing, state) {
  const value = (name) => form.elements[name].value.trim();
  const consent = form.querySelector('input[name="public"]:checked')?.value;
  const key = form.elements.key.checked;
  const body = {
    title: value("title"),
    summary: value("summary"),
    situation: value("situation"),
    suggestions: state.suggestions.map((x) => x.trim()).filter(Boolean),
    public: consent === undefined ? null : consent === "yes",
    category: orNull(value("category")),
    key,
    supervisor_id: key ? idOrNull(value("supervisor_id")) : null,
    proposer_ids: ids(form, "proposer_ids"),
    group_proposer: orNull(value("group_proposer")),
    lead_unit_id: idOrNull(value("lead_unit_id")),
    co_unit_ids: ids(form, "co_unit_ids").filter((u) => u !== idOrNull(value("lead_unit_id"))),
    bundle_lead_id: idOrNull(value("bundle_lead_id")),
  };
  if (!editing) body.number = value("number");
  return body;
}

const save = (id, body) => (id ? patch(`/api/proposals/${id}`, body) : post("/api/proposals", body));
const rebundle = (proposalId, leadId) => patch(`/api/proposals/${proposalId}`, { bundle_lead_id: leadId });

// ---------------------------------------------------------------- view

function options(items, chosen, none, label = (x) => x.name) {
  return [
    h("option", { value: "", selected: chosen == null }, none),
    ...items.map((x) => h("option", { value: String(x.id), selected: x.id === chosen }, label(x))),
  ];
}

function checks(name, items, chosen, label = (x) => x.name) {
  return items.map((x) =>
    h("label", { class: "check", dataset: { name: label(x) } }, h("input", { type: "checkbox", name, value: String(x.id), checked: chosen.includes(x.id) }), label(x)),
  );
}

function proposersBox(data, p) {
  const chosen = (p?.proposers || []).map((x) => x.id);
  const filter = h("input", { type: "search", autocomplete: "off" });
  const group = groupBox("proposer_ids", t("pfProposers"), data.proposers.length ? checks("proposer_ids", data.proposers, chosen) : h("p", { class: "muted" }, t("pfNoMembers")));
  filter.addEventListener("input", () => {
    const wanted = filter.value.trim();
    for (const label of group.querySelectorAll("label.check")) label.hidden = wanted !== "" && !label.dataset.name.includes(wanted);
  });
  return [fieldBox("filter", t("pfFilter"), filter), group];
}

const numbered = titled;

function bundleLeadBox(data, p) {
  const candidates = data.proposals.filter((x) => x.bundle_lead_id == null && x.id !== p?.id);
  const leadsOwn = (p?.bundled_ids || []).length > 0;
  const select = h("select", { name: "bundle_lead_id", disabled: leadsOwn }, options(candidates, p?.bundle_lead_id ?? null, t("pfNotBundled"), numbered));
  return fieldBox("bundle_lead_id", t("pfBundleLead"), select, t("pfBundleHint"));
}

function bundledList(data, p, refresh) {
  if (!p || p.bundle_lead_id != null) return null;
  const byId = new Map(data.proposals.map((x) => [x.id, x]));
  const others = data.proposals.filter((x) => x.id !== p.id && x.bundle_lead_id == null && !x.bundled_ids.length);
  const pick = h("select", {}, options(others, null, t("pfNoOne"), numbered));
  return h(
    "div",
    {},
    p.bundled_ids.length
      ? [
          h("p", {}, t("pfLeads")),
          h("ul", { class: "list" }, p.bundled_ids.map((id) =>
            h("li", { class: "row" }, h("a", { href: `#/proposals/${id}` }, byId.has(id) ? numbered(byId.get(id)) : `#${id}`), " ",
              h("button", { type: "button", class: "small", onclick: () => attempt(async () => { await rebundle(id, null); refresh(); }) }, t("pfRemove"))),
          )),
        ]
      : null,
    h("div", { class: "actions" }, fieldBox("bundle_add", t("pfAddToBundle"), pick),
      h("button", { type: "button", class: "small", onclick: () => pick.value && attempt(async () => { await rebundle(Number(pick.value), p.id); refresh(); }) }, t("pfAdd"))),
  );
}

function consentBox(p) {
  const radio = (value, label) => h("label", { class: "check" }, h("input", { type: "radio", name: "public", value, checked: p?.public != null && p.public === (value === "yes") }), label);
  return groupBox("public", t("dPublic"), radio("yes", t("dPublicYes")), radio("no", t("dPublicNo")));
}

function draw(main, data, id, refresh) {
  const p = data.proposal;
  const state = { suggestions: p?.suggestions.length ? [...p.suggestions] : [""] };
  const key = h("input", { type: "checkbox", name: "key", checked: Boolean(p?.key) });
  const supervisor = h("select", { name: "supervisor_id", disabled: !p?.key }, options(data.leaders, p?.supervisor_id ?? null, t("pfNoOne")));
  key.addEventListener("change", () => { supervisor.disabled = !key.checked; });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    id
      ? h("p", {}, badge(t(`status_${p.status}`), "status"), " ", p.number || "")
      : fieldBox("number", t("pfNumber"), h("input", { name: "number", required: true, autocomplete: "off", inputmode: "numeric", placeholder: "2026-0123" }), t("pfNumberHint")),
    fieldBox("title", t("pfTitle"), h("input", { name: "title", required: true, maxlength: 200, value: p?.title || "" })),
    fieldBox("summary", t("pfSummary"), h("textarea", { name: "summary", rows: 5 }, p?.summary || "")),
    fieldBox("situation", t("dSituation"), h("textarea", { name: "situation", rows: 4 }, p?.situation || "")),
    suggestionsEditor(state),
    consentBox(p),
    h(
      "div",
      { class: "cols" },
      fieldBox("category", t("pfCategory"), h("input", { name: "category", maxlength: 50, value: p?.category || "" }), t("pfCategoryHint")),
      h("div", { class: "field", dataset: { field: "key" } }, h("label", { class: "check" }, key, t("pfKey"))),
      fieldBox("supervisor_id", t("pfSupervisor"), supervisor),
    ),
    proposersBox(data, p),
    fieldBox("group_proposer", t("pfGroup"), h("input", { name: "group_proposer", maxlength: 100, value: p?.group_proposer || "" }), t("pfGroupHint")),
    fieldBox("lead_unit_id", t("pfLead"), h("select", { name: "lead_unit_id" }, options(data.units, p?.lead_unit_id ?? null, t("pfNoOne")))),
    groupBox("co_unit_ids", t("pfCo"), checks("co_unit_ids", data.units, p?.co_unit_ids || [])),
    h("h2", {}, t("pfBundle")),
    bundleLeadBox(data, p),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, id ? t("pfSave") : t("pfRegister")), h("a", { class: "button", href: id ? `#/proposals/${id}` : "#/proposals" }, t("pfCancel"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(form, () => save(id, bodyOf(form, Boolean(id), state)));
    if (saved) go(`#/proposals/${saved.id}`);
  });
  mount(main, h("h1", {}, id ? t("pfEdit") : t("pfNew")), form, id ? section(t("pfBundle"), bundledList(data, p, refresh)) : null);
}

export async function show(main, where) {
  const id = where.id;
  const open = () => loadPage(main, () => load(id), (data) => draw(main, data, id, open));
  await open();
}
