// Per-unit statistics (承办单位办理情况) for staff and leaders: each unit's proposals as lead and
// co-handling unit, on-time replies, satisfaction, reply classes A–D and open follow-ups, the
// units with most proposals (办理大户) first; a year selector (`#/stats/units?year=2026`) and an
// .xlsx export of the same table.
import { download, get } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { attempt, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    usTitle: "承办单位办理情况", usYear: "年度", usAllYears: "全部年度", usYearN: "{year} 年", usExport: "导出 Excel",
    usUnit: "承办单位", usLead: "主办", usCo: "协办", usTotal: "合计", usOnTime: "按时答复", usOnTimeOf: "{n}/{of}",
    usLate: "逾期答复", usOverdue: "逾期未答复", usSatisfaction: "满意率", usEvaluated: "已评价 {n} 件",
    usClasses: "答复分类 A/B/C/D", usFollowUps: "未办结督办", usFollowUpsOverdue: "其中逾期 {n}",
    usEmpty: "该年度还没有交办给承办单位的提案。", usTable: "各承办单位办理情况", usBack: "统计概览",
    usHint: "按办理件数从多到少排列（办理大户在前）；按时答复指首次答复不晚于答复期限。",
  },
  en: {
    usTitle: "Undertaking units", usYear: "Year", usAllYears: "All years", usYearN: "{year}", usExport: "Export Excel",
    usUnit: "Unit", usLead: "Lead", usCo: "Co-handling", usTotal: "Total", usOnTime: "Replied on time", usOnTimeOf: "{n}/{of}",
    usLate: "Replied late", usOverdue: "Overdue, no reply", usSatisfaction: "Satisfaction", usEvaluated: "{n} evaluated",
    usClasses: "Reply classes A/B/C/D", usFollowUps: "Open follow-ups", usFollowUpsOverdue: "{n} overdue",
    usEmpty: "No proposals were assigned to units in this year.", usTable: "Per-unit figures", usBack: "Overview",
    usHint: "Most proposals first; on time means the first reply came by the reply's due day.",
  },
});

// ---------------------------------------------------------------- model

function yearOf(where) {
  const year = Number(where.query.get("year"));
  return Number.isInteger(year) && year >= 2000 && year <= 2100 ? year : null;
}

const load = (year) => (year ? get(`/api/stats/units?year=${year}`) : get("/api/stats/units"));
const pct = (x) => (x === null ? "—" : `${Math.round(x * 1000) / 10}%`);

// ---------------------------------------------------------------- view

export async function show(main, where) {
  const year = yearOf(where);
  return loadPage(main, () => load(year), (data) => draw(main, year, data));
}

function yearPicker(year, years) {
  const choices = [...new Set([...(year ? [year] : []), ...years])].sort((a, b) => b - a);
  const picker = h(
    "select",
    { id: "unit-stats-year", name: "year" },
    h("option", { value: "", selected: year === null }, t("usAllYears")),
    choices.map((y) => h("option", { value: String(y), selected: y === year }, t("usYearN", { year: y }))),
  );
  picker.addEventListener("change", () => {
    location.hash = `#/stats/units${picker.value ? `?year=${picker.value}` : ""}`;
  });
  return h("div", { class: "field inline" }, h("label", { for: "unit-stats-year" }, t("usYear")), picker);
}

const cell = (label, ...children) => h("td", { dataset: { label } }, ...children);

function row(r) {
  return h(
    "tr",
    {},
    cell(t("usUnit"), r.name),
    cell(t("usLead"), String(r.lead)),
    cell(t("usCo"), String(r.co)),
    cell(t("usTotal"), h("b", {}, String(r.total))),
    cell(t("usOnTime"), `${pct(r.on_time_rate)} `, h("small", { class: "muted" }, t("usOnTimeOf", { n: r.replied_on_time, of: r.replies_due }))),
    cell(t("usLate"), String(r.replied_late)),
    cell(t("usOverdue"), String(r.reply_overdue)),
    cell(t("usSatisfaction"), `${pct(r.satisfaction_rate)} `, h("small", { class: "muted" }, t("usEvaluated", { n: r.evaluated }))),
    cell(t("usClasses"), ["A", "B", "C", "D"].map((c) => r.classes[c] ?? 0).join(" / ")),
    cell(t("usFollowUps"), String(r.open_follow_ups), r.overdue_follow_ups ? [" ", h("small", { class: "muted" }, t("usFollowUpsOverdue", { n: r.overdue_follow_ups }))] : null),
  );
}

function table(items) {
  const heads = ["usUnit", "usLead", "usCo", "usTotal", "usOnTime", "usLate", "usOverdue", "usSatisfaction", "usClasses", "usFollowUps"];
  return h(
    "div",
    { class: "table-scroll stack card", tabindex: "0", role: "region", "aria-label": t("usTable") },
    h("table", {}, h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, items.map(row))),
  );
}

function draw(main, year, data) {
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, t("usTitle"), year ? h("small", {}, ` ${t("usYearN", { year })}`) : null),
      h(
        "div",
        { class: "actions" },
        yearPicker(year, data.years),
        h("a", { class: "button", href: "#/stats" }, t("usBack")),
        data.items.length ? h("button", { type: "button", onclick: () => attempt(() => download(year ? `/api/stats/units.xlsx?year=${year}` : "/api/stats/units.xlsx", "unit-stats.xlsx")) }, t("usExport")) : null,
      ),
    ),
    h("p", { class: "muted" }, t("usHint")),
    data.items.length ? table(data.items) : h("p", { class: "muted empty" }, t("usEmpty")),
  );
}
