// Statistics for staff and leaders, for one year (`#/stats?year=2026`) or all years: consultation
// compliance, satisfaction with every verdict in words, the itemised replies' classes (A–D),
// follow-ups, sessions by kind and month and
// proposals by status, with simple bar charts (SVG drawn here, no chart library).
import { get } from "../api.js";
import "../handling.js"; // the follow-up states' words (fu_open, …), when this page is opened first
import { addTexts, t } from "../i18n.js";
import { classWords, REPLY_CLASSES } from "../itemised-reply.js";
import { loadPage } from "../page.js";
import { dayOf, h, mount, section } from "../ui.js";

addTexts({
  "zh-CN": {
    stYear: "年度", stAllYears: "全部年度", stYearN: "{year} 年", stSatisfaction: "评价结果",
    stFollowUps: "督办事项", stCompliance: "协商阶段", stJudged: "应开展协商的提案 {n} 件，其中完整 {ok} 件",
    stMissing: "缺少{stage}协商：{n} 件", stEvaluated: "已评价 {n} 件", stEmpty: "该年度没有数据。",
    stCount: "{label}：{n}", stUnits: "承办单位办理情况",
    stReplyClasses: "答复类别", stReplyItems: "{replies} 件提案的最新答复共 {items} 条建议",
  },
  en: {
    stYear: "Year", stAllYears: "All years", stYearN: "{year}", stSatisfaction: "Verdicts",
    stFollowUps: "Follow-up items", stCompliance: "Consultation stages", stJudged: "{n} proposals due a consultation, {ok} complete",
    stMissing: "Missing a {stage} consultation: {n}", stEvaluated: "{n} evaluated", stEmpty: "No figures for this year.",
    stCount: "{label}: {n}", stUnits: "Undertaking units",
    stReplyClasses: "Reply classes", stReplyItems: "{items} suggestions answered in the latest replies to {replies} proposals",
  },
});

const SVG = "http://www.w3.org/2000/svg";
const FIRST_YEAR = 2020;

// ---------------------------------------------------------------- model

class StatsModel {
  constructor(year) {
    this.year = year; // a number, or null for all years
    this.stats = null;
  }

  async load() {
    this.stats = await get(`/api/stats${this.year ? `?year=${this.year}` : ""}`);
    return this;
  }

  static years() {
    const now = Number(dayOf(new Date()).slice(0, 4));
    const years = [];
    for (let y = now + 1; y >= FIRST_YEAR; y -= 1) years.push(y);
    return years;
  }

  get isEmpty() {
    const s = this.stats;
    return !s.sessions_by_month.length && !Object.keys(s.proposals_by_status).length && !s.follow_ups.open && !s.follow_ups.done;
  }
}

function yearOf(where) {
  const year = Number(where.query.get("year"));
  return Number.isInteger(year) && year >= 2000 && year <= 2100 ? year : null;
}

// ---------------------------------------------------------------- view

export async function show(main, where) {
  const model = new StatsModel(yearOf(where));
  return loadPage(main, () => model.load(), () => draw(main, model));
}

const pct = (x) => (x === null ? "—" : `${Math.round(x * 1000) / 10}%`);

function draw(main, model) {
  const s = model.stats;
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, t("stats"), model.year ? h("small", {}, ` ${t("stYearN", { year: model.year })}`) : null),
      h("div", { class: "actions" }, yearPicker(model), h("a", { class: "button", href: `#/stats/units${model.year ? `?year=${model.year}` : ""}` }, t("stUnits"))),
    ),
    h(
      "div",
      { class: "kpis" },
      h("div", { class: "kpi" }, h("b", {}, pct(s.compliance.rate)), h("span", {}, t("compliance"))),
      h("div", { class: "kpi" }, h("b", {}, pct(s.satisfaction.rate)), h("span", {}, t("satisfaction"))),
      h("div", { class: "kpi" }, h("b", {}, String(s.follow_ups.overdue)), h("span", {}, t("overdueCount"))),
    ),
    model.isEmpty ? h("p", { class: "muted" }, t("stEmpty")) : null,
    h(
      "div",
      { class: "grid" },
      section(
        t("stSatisfaction"),
        h("p", { class: "muted" }, t("stEvaluated", { n: s.satisfaction.evaluated })),
        bars(["satisfied", "basically_satisfied", "unsatisfied"].map((v) => [t(`verdict_${v}`), s.satisfaction[v]]), t("stSatisfaction")),
      ),
      section(
        t("stCompliance"),
        h("p", {}, t("stJudged", { n: s.compliance.judged, ok: s.compliance.compliant })),
        h("ul", {}, ["before", "during", "after"].map((stage) => h("li", {}, t("stMissing", { stage: t(`stage_${stage}`), n: s.compliance.missing[stage] || 0 })))),
      ),
      section(
        t("stReplyClasses"),
        h("p", { class: "muted" }, t("stReplyItems", { replies: s.reply_classes.replies, items: s.reply_classes.items })),
        bars(REPLY_CLASSES.map((c) => [t("rcShort", { cls: c }), s.reply_classes[c]]), t("stReplyClasses")),
        h("ul", { class: "class-legend" }, REPLY_CLASSES.map((c) => h("li", { dataset: { class: c } }, t("stCount", { label: classWords(c), n: s.reply_classes[c] })))),
      ),
      section(t("stFollowUps"), bars([["open", "fu_open"], ["done", "fu_done"], ["cancelled", "fu_cancelled"], ["overdue", "overdue"]].map(([k, label]) => [t(label), s.follow_ups[k]]), t("stFollowUps"))),
      section(t("byStatus"), bars(Object.entries(s.proposals_by_status).map(([k, n]) => [t(`status_${k}`), n]), t("byStatus"))),
      section(t("byKind"), bars(s.sessions_by_month.map((m) => [`${m.month} ${t(`kind_${m.kind}`)}`, m.count]), t("byKind"))),
    ),
  );
}

// Choosing a year changes the address, so the choice can be linked and the back button works.
function yearPicker(model) {
  const picker = h(
    "select",
    { id: "stats-year", name: "year" },
    h("option", { value: "", selected: model.year === null }, t("stAllYears")),
    StatsModel.years().map((y) => h("option", { value: String(y), selected: y === model.year }, t("stYearN", { year: y }))),
  );
  picker.addEventListener("change", () => {
    location.hash = picker.value ? `#/stats?year=${picker.value}` : "#/stats";
  });
  return h("div", { class: "field inline" }, h("label", { for: "stats-year" }, t("stYear")), picker);
}

// Words for each bar are in the SVG's title too, so a screen reader reads the chart as a list.
function bars(rows, title) {
  if (!rows.length) return h("p", { class: "muted" }, t("none"));
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const height = rows.length * 28 + 8;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 420 ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${title}：${rows.map(([label, n]) => t("stCount", { label, n })).join("；")}`);
  rows.forEach(([label, n], i) => {
    const y = i * 28 + 4;
    const text = document.createElementNS(SVG, "text");
    text.setAttribute("x", "0");
    text.setAttribute("y", String(y + 16));
    text.textContent = label;
    const rect = document.createElementNS(SVG, "rect");
    rect.setAttribute("x", "150");
    rect.setAttribute("y", String(y));
    rect.setAttribute("height", "20");
    rect.setAttribute("width", String(Math.max(2, (n / max) * 230)));
    const value = document.createElementNS(SVG, "text");
    value.setAttribute("x", String(156 + (n / max) * 230));
    value.setAttribute("y", String(y + 16));
    value.textContent = String(n);
    svg.append(text, rect, value);
  });
  return svg;
}
