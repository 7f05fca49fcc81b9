// Proposals with their status, consultation stages and the proposer's verdict.
import { get } from "../api.js";
import { t } from "../i18n.js";
import { badge, empty, h, mount } from "../ui.js";

const VERDICT = { satisfied: "good", basically_satisfied: "good", unsatisfied: "warn" };

export async function show(main, where) {
  const only = where.query.get("compliance");
  const list = await get(`/api/proposals?limit=200${only ? `&compliance=${only}` : ""}`);
  const filter = (value, label) =>
    h("a", { class: `button${(only || "") === value ? " active" : ""}`, href: `#/proposals${value ? `?compliance=${value}` : ""}` }, label);
  mount(
    main,
    h("div", { class: "toolbar" }, h("h1", {}, t("allProposals")), h("div", { class: "actions" }, filter("", t("all")), filter("missing", t("onlyMissing")))),
    list.items.length
      ? h(
          "table",
          { class: "card" },
          h("thead", {}, h("tr", {}, ["number", "title", "state", "compliance", "evaluations"].map((k) => h("th", {}, t(k === "number" ? "proposalNo" : k === "state" ? "proposalState" : k))))),
          h(
            "tbody",
            {},
            list.items.map((p) =>
              h(
                "tr",
                {},
                h("td", {}, p.number),
                h("td", {}, h("a", { href: `#/proposals/${p.id}` }, p.title)),
                h("td", {}, badge(t(`status_${p.status}`), "status"), p.round > 1 ? badge(`#${p.round}`, "warn") : null),
                h("td", {}, p.compliance.missing.length ? badge(t("missing", { stages: p.compliance.missing.map((m) => t(`stage_${m}`)).join("、") }), "warn") : p.compliance.required.length ? badge(t("ok"), "good") : "—"),
                h("td", {}, p.evaluation ? badge(t(`verdict_${p.evaluation}`), VERDICT[p.evaluation]) : "—"),
              ),
            ),
          ),
        )
      : empty(),
  );
}
