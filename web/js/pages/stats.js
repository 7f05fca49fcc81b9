// Statistics with simple bar charts (SVG drawn here, no chart library).
import { get } from "../api.js";
import { t } from "../i18n.js";
import { h, mount, section } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";

function bars(rows) {
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const height = rows.length * 28 + 8;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 420 ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
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

const pct = (x) => (x === null ? "—" : `${Math.round(x * 1000) / 10}%`);

export async function show(main) {
  const s = await get("/api/stats");
  mount(
    main,
    h("h1", {}, t("stats")),
    h(
      "div",
      { class: "kpis" },
      h("div", { class: "kpi" }, h("b", {}, pct(s.compliance.rate)), h("span", {}, t("compliance"))),
      h("div", { class: "kpi" }, h("b", {}, pct(s.satisfaction.rate)), h("span", {}, t("satisfaction"))),
      h("div", { class: "kpi" }, h("b", {}, String(s.follow_ups.overdue)), h("span", {}, t("overdueCount"))),
    ),
    h(
      "div",
      { class: "grid" },
      section(t("byKind"), bars(s.sessions_by_month.map((m) => [`${m.month} ${t(`kind_${m.kind}`)}`, m.count]))),
      section(t("byStatus"), bars(Object.entries(s.proposals_by_status).map(([k, n]) => [t(`status_${k}`), n]))),
    ),
  );
}
