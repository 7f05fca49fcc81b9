// The proposal lists staff work from: filters (status, unit, text, key, category, year, stage
// compliance, reply overdue) kept in the address, sortable columns, pages, and the filtered list
// as an .xlsx workbook.
import { download, get, session } from "../api.js";
import { go } from "../app.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { attempt, badge, field, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    plFilters: "筛选", plStatus: "状态", plUnit: "承办单位", plText: "编号、标题或摘要", plKey: "重点提案",
    plCategory: "类别", plYear: "年份", plCompliance: "协商阶段", plOverdue: "答复逾期", plAny: "全部",
    plYes: "是", plNo: "否", plMissing: "缺少协商", plComplete: "协商完整", plApply: "筛选", plReset: "清除筛选",
    plExport: "导出 Excel（.xlsx）", plNew: "登记提案", plImport: "导入提案", plShown: "第 {from}–{to} 条，共 {total} 条",
    plNoMatch: "没有符合条件的提案。", plNoneYet: "还没有提案。", plLead: "主办单位", plDue: "答复期限",
    plSortBy: "按{column}排序", plPages: "分页", plKeyMark: "重点", plTable: "提案列表",
  },
  en: {
    plFilters: "Filters", plStatus: "Status", plUnit: "Unit", plText: "Number, title or summary", plKey: "Key proposal",
    plCategory: "Category", plYear: "Year", plCompliance: "Consultation stages", plOverdue: "Reply overdue", plAny: "Any",
    plYes: "Yes", plNo: "No", plMissing: "Missing a stage", plComplete: "Complete", plApply: "Filter", plReset: "Clear filters",
    plExport: "Export to Excel (.xlsx)", plNew: "Register a proposal", plImport: "Import proposals", plShown: "{from}–{to} of {total}",
    plNoMatch: "No proposal matches.", plNoneYet: "No proposals yet.", plLead: "Lead unit", plDue: "Reply due",
    plSortBy: "Sort by {column}", plPages: "Pages", plKeyMark: "key", plTable: "Proposals",
  },
});

const PAGE = 50;
const FILTERS = ["status", "unit_id", "q", "key", "category", "year", "compliance", "overdue"];
const STATUSES = ["submitted", "filed", "assigned", "handling", "replied", "evaluated", "closed", "rejected", "converted"];
const VERDICT = { satisfied: "good", basically_satisfied: "good", unsatisfied: "warn" };

// ---------------------------------------------------------------- model

// The list's state is its address: #/proposals?status=filed&sort=-number&offset=50
function stateOf(query) {
  const state = { sort: query.get("sort") || "number", offset: Math.max(0, Number(query.get("offset")) || 0) };
  for (const name of FILTERS) if (query.get(name)) state[name] = query.get(name);
  return state;
}

function apiQuery(state, paged = true) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (state[name]) params.set(name, state[name]);
  params.set("sort", state.sort);
  if (paged) {
    params.set("limit", String(PAGE));
    params.set("offset", String(state.offset));
  }
  return params;
}

function address(state, changes) {
  const next = { ...state, ...changes };
  const params = apiQuery(next, false);
  if (next.offset) params.set("offset", String(next.offset));
  if (next.sort === "number") params.delete("sort");
  const text = params.toString();
  return `#/proposals${text ? `?${text}` : ""}`;
}

async function load(state) {
  const [list, units] = await Promise.all([get(`/api/proposals?${apiQuery(state)}`), get("/api/units")]);
  return { list, units: units.items };
}

const exportList = (state) => download(`/api/proposals.xlsx?${apiQuery(state, false)}`, "proposals.xlsx");

// ---------------------------------------------------------------- view

function choice(name, value, items) {
  return h("select", { name }, [["", t("plAny")], ...items].map(([v, label]) => h("option", { value: v, selected: String(value ?? "") === v }, label)));
}

function filtersForm(state, units) {
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": t("plFilters") },
    h(
      "div",
      { class: "cols" },
      field(t("plText"), h("input", { type: "search", name: "q", value: state.q || "", maxlength: 100 })),
      field(t("plStatus"), choice("status", state.status, STATUSES.map((s) => [s, t(`status_${s}`)]))),
      field(t("plUnit"), choice("unit_id", state.unit_id, units.map((u) => [String(u.id), u.name]))),
      field(t("plCategory"), h("input", { name: "category", value: state.category || "", maxlength: 50 })),
      field(t("plYear"), h("input", { type: "number", name: "year", min: 2000, max: 2100, value: state.year || "" })),
      field(t("plKey"), choice("key", state.key, [["true", t("plYes")], ["false", t("plNo")]])),
      field(t("plCompliance"), choice("compliance", state.compliance, [["missing", t("plMissing")], ["ok", t("plComplete")]])),
      field(t("plOverdue"), choice("overdue", state.overdue, [["true", t("plYes")], ["false", t("plNo")]])),
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("plApply")), h("a", { class: "button", href: "#/proposals" }, t("plReset"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = { offset: 0 };
    for (const name of FILTERS) chosen[name] = form.elements[name].value.trim() || undefined;
    go(address(state, chosen));
  });
  const open = !matchMedia("(max-width: 760px)").matches || FILTERS.some((name) => state[name]);
  return h("details", { class: "card filters-box", open }, h("summary", {}, t("plFilters")), form);
}

function sortHeader(state, column, label) {
  const direction = state.sort === column ? "ascending" : state.sort === `-${column}` ? "descending" : null;
  const next = state.sort === column ? `-${column}` : column;
  return h(
    "th",
    { "aria-sort": direction || "none", scope: "col" },
    h("a", { href: address(state, { sort: next, offset: 0 }), "aria-label": t("plSortBy", { column: label }) }, label, direction ? (direction === "ascending" ? " ▲" : " ▼") : ""),
  );
}

const cell = (label, ...children) => h("td", { dataset: { label } }, ...children);

function row(p, unitNames) {
  const late = ["assigned", "handling"].includes(p.status) && p.reply_due && new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date()) > p.reply_due;
  return h(
    "tr",
    {},
    cell(t("proposalNo"), p.number || "—"),
    cell(t("title"), h("a", { href: `#/proposals/${p.id}` }, p.title), p.key ? [" ", badge(t("plKeyMark"), "warn")] : null),
    cell(t("proposalState"), badge(t(`status_${p.status}`), "status"), p.round > 1 ? badge(`#${p.round}`, "warn") : null),
    cell(t("plLead"), unitNames.get(p.lead_unit_id) || "—"),
    cell(t("plDue"), p.reply_due || "—", late ? [" ", badge(t("plOverdue"), "warn")] : null),
    cell(t("compliance"), p.compliance.missing.length ? badge(t("missing", { stages: p.compliance.missing.map((m) => t(`stage_${m}`)).join("、") }), "warn") : p.compliance.required.length ? badge(t("ok"), "good") : "—"),
    cell(t("evaluations"), p.evaluation ? badge(t(`verdict_${p.evaluation}`), VERDICT[p.evaluation]) : "—"),
  );
}

function table(state, list, units) {
  const unitNames = new Map(units.map((u) => [u.id, u.name]));
  return h(
    "div",
    { class: "table-scroll stack card", tabindex: "0", role: "region", "aria-label": t("plTable") },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {},
        sortHeader(state, "number", t("proposalNo")),
        sortHeader(state, "title", t("title")),
        sortHeader(state, "status", t("proposalState")),
        h("th", { scope: "col" }, t("plLead")),
        h("th", { scope: "col" }, t("plDue")),
        h("th", { scope: "col" }, t("compliance")),
        h("th", { scope: "col" }, t("evaluations")))),
      h("tbody", {}, list.items.map((p) => row(p, unitNames))),
    ),
  );
}

function pager(state, list) {
  if (!list.total) return null;
  const from = list.offset + 1;
  const to = list.offset + list.items.length;
  const prev = state.offset > 0 ? h("a", { class: "button", href: address(state, { offset: Math.max(0, state.offset - PAGE) }), rel: "prev" }, t("prev")) : null;
  const next = to < list.total ? h("a", { class: "button", href: address(state, { offset: state.offset + PAGE }), rel: "next" }, t("next")) : null;
  return h("nav", { class: "actions pager", "aria-label": t("plPages") }, h("span", { class: "muted" }, t("plShown", { from, to, total: list.total })), prev, next);
}

function draw(main, state, { list, units }) {
  const filtered = FILTERS.some((name) => state[name]);
  const staff = session()?.person?.role === "staff";
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, t("allProposals")),
      h("div", { class: "actions" },
        staff ? h("a", { class: "button primary", href: "#/proposals/new" }, t("plNew")) : null,
        staff ? h("a", { class: "button", href: "#/proposals/import" }, t("plImport")) : null,
        list.total ? h("button", { type: "button", onclick: () => attempt(() => exportList(state)) }, t("plExport")) : null),
    ),
    filtersForm(state, units),
    list.items.length ? [table(state, list, units), pager(state, list)] : h("p", { class: "muted empty" }, filtered ? t("plNoMatch") : t("plNoneYet")),
  );
}

export async function show(main, where) {
  const state = stateOf(where.query);
  await loadPage(main, () => load(state), (data) => draw(main, state, data));
}
