// A proposal's dossier: bundle, consultation stages, sessions with approved minutes, replies,
// progress, evaluations, follow-ups and the timeline.
import { download, get } from "../api.js";
import { t } from "../i18n.js";
import { attempt, badge, empty, fmt, h, mount, section } from "../ui.js";

export async function show(main, where) {
  const d = await get(`/api/proposals/${where.id}/dossier`);
  const p = d.proposal;
  const c = p.compliance;
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, `${p.number} ${p.title} `, badge(t(`status_${p.status}`), "status")),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => attempt(() => download(`/api/proposals/${p.id}/dossier.docx`, "dossier.docx")) }, `${t("export")} .docx`)),
    ),
    h(
      "div",
      { class: "stages", "aria-label": t("compliance") },
      ["before", "during", "after"].map((stage) =>
        h("div", { class: `stage-box${c.missing.includes(stage) ? " missing" : c[stage] ? " held" : ""}` }, h("b", {}, t(`stage_${stage}`)), h("span", {}, String(c[stage]))),
      ),
    ),
    h(
      "div",
      { class: "grid" },
      section(t("sessions"), d.sessions.length ? h("ul", { class: "list" }, d.sessions.map((s) => h("li", {}, h("a", { href: `#/sessions/${s.id}` }, s.title), h("div", { class: "muted" }, fmt.date(s.starts_at), s.stage ? ` · ${t(`stage_${s.stage}`)}` : ""), s.minutes ? h("ul", {}, s.minutes.items.flatMap((i) => i.decisions.map((x) => h("li", {}, `${t("decisions")}：${x}`)))) : null))) : empty()),
      section(t("replies"), d.handling.replies.length ? d.handling.replies.map((r) => h("article", {}, h("h3", {}, `#${r.round} · ${fmt.date(r.at)}`), h("p", {}, r.text))) : empty()),
      section(t("evaluations"), d.handling.evaluations.length ? h("ul", { class: "list" }, d.handling.evaluations.map((e) => h("li", {}, `${e.kind === "handling" ? t("role_proposer") : t("role_unit")}：${e.verdict} ${e.comment}`))) : empty()),
      section(t("followups"), d.follow_ups.length ? h("ul", { class: "list" }, d.follow_ups.map((f) => h("li", { class: "row" }, f.text, badge(f.overdue ? t("overdue") : t(f.status === "done" ? "done" : f.status), f.overdue ? "warn" : f.status)))) : empty()),
    ),
    section(t("timeline"), h("ol", { class: "timeline" }, d.timeline.map((e) => h("li", {}, h("time", { datetime: e.at }, fmt.dateTime(e.at)), " ", e.summary)))),
  );
}
