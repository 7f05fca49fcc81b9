// Scores against the staff's weighted criteria (双向评议) in the evaluation and quality forms,
// and how a scored evaluation reads in the list. The server checks the scores and computes the
// weighted total; the form only asks for a score per criterion.
import { get } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { h } from "../ui.js";

addTexts({
  "zh-CN": {
    esScores: "按指标评分", esOf: "{name}（权重 {weight}，0–{max} 分）", esTotal: "综合得分 {score}",
    esScoreLine: "{name} {score}/{max}", esByCosigner: "联名委员评价办理",
  },
  en: {
    esScores: "Scores by criterion", esOf: "{name} (weight {weight}, 0–{max})", esTotal: "Total {score}",
    esScoreLine: "{name} {score}/{max}", esByCosigner: "Co-signer on the handling",
  },
});

export const loadSettings = () => get("/api/evaluation-settings");

let counter = 0;

// A fieldset with one number input per criterion; `values()` gives the scores to send, or
// null when there are no criteria (the evaluation is then its verdict alone).
export function scoreFields(criteria) {
  if (!criteria?.length) return { el: null, values: () => null };
  const inputs = criteria.map((c) => {
    counter += 1;
    const input = h("input", { type: "number", id: `score-${counter}`, name: `score-${c.id}`, min: 0, max: c.max, step: 1, required: true, inputmode: "numeric", dataset: { criterion: c.id } });
    return [c, input];
  });
  const el = h(
    "fieldset",
    { class: "choices scores" },
    h("legend", {}, t("esScores")),
    inputs.map(([c, input]) => h("div", { class: "field" }, h("label", { for: input.id }, t("esOf", { name: c.name, weight: c.weight, max: c.max })), input)),
  );
  return { el, values: () => inputs.map(([c, input]) => ({ criterion_id: c.id, score: Number(input.value) })) };
}

// A scored evaluation's scores and total, for the evaluations list.
export function scoreSummary(e) {
  if (!e.scores?.length) return null;
  return h(
    "p",
    { class: "muted scores-line" },
    h("b", {}, t("esTotal", { score: e.score })),
    " · ",
    e.scores.map((s) => t("esScoreLine", { name: s.name, score: s.score, max: s.max })).join("；"),
  );
}
