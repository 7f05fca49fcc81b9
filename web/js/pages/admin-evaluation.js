// The two-way evaluation's checklist (双向评议, staff): the criteria of the proposer's evaluation
// of a reply and of the unit's rating of the proposal's quality, each with its weight and
// highest score, and whether co-signers evaluate too. Saved as a whole; evaluations already
// given keep the criteria they were scored on.
import { ApiError, get, put, session } from "../api.js";
import { groupBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    aeTitle: "评价指标", aeHint: "设定提案人评价答复、承办单位评价提案质量时的评分指标。每项指标有权重和最高分，综合得分按权重折算为百分制。未设指标时只需选择评价等级。",
    aeHandling: "提案人评价办理答复的指标", aeQuality: "承办单位评价提案质量的指标",
    aeName: "指标名称", aeWeight: "权重", aeMax: "最高分", aeAdd: "添加指标", aeRemove: "删除“{name}”", aeRemoveBlank: "删除此指标",
    aeNone: "暂无指标（只选择评价等级）", aeCosigners: "允许联名委员评价办理答复", aeCosignersHint: "开启后，每位确认联名的委员也可评价答复；提案人的评价决定提案是否办结。",
    aeSave: "保存评价设置", aeSaved: "评价设置已保存", aeRow: "第 {n} 项",
  },
  en: {
    aeTitle: "Evaluation criteria", aeHint: "The criteria proposers score a reply on, and units score a proposal's quality on. Each has a weight and a highest score; the total is weighted out of 100. Without criteria only the verdict is chosen.",
    aeHandling: "Criteria of the proposer's evaluation of the reply", aeQuality: "Criteria of the unit's rating of the proposal",
    aeName: "Criterion", aeWeight: "Weight", aeMax: "Highest score", aeAdd: "Add a criterion", aeRemove: "Remove “{name}”", aeRemoveBlank: "Remove this criterion",
    aeNone: "No criteria (the verdict only)", aeCosigners: "Co-signers evaluate the reply too", aeCosignersHint: "Each member who confirmed co-signing may then evaluate the reply; the proposer's verdict still decides whether the proposal is closed.",
    aeSave: "Save the evaluation settings", aeSaved: "Evaluation settings saved", aeRow: "Criterion {n}",
  },
});

// ---------------------------------------------------------------- model

export async function load() {
  if (session()?.person?.role !== "staff") throw new ApiError(403, { detail: t("stateForbidden") });
  const settings = await get("/api/evaluation-settings");
  const rows = (list) => list.map(({ name, weight, max }) => ({ name, weight, max }));
  return { handling: rows(settings.handling), quality: rows(settings.quality), cosigners_evaluate: settings.cosigners_evaluate };
}

const save = (draft) => put("/api/evaluation-settings", draft);

// ---------------------------------------------------------------- view

// One kind's criteria as editable rows; edits go straight into `list`.
function criteriaBox(kind, legend, list, redraw) {
  const rows = list.map((c, i) => {
    const name = h("input", { name: `${kind}-${i}-name`, value: c.name, required: true, maxlength: 100, "aria-label": `${t("aeRow", { n: i + 1 })} ${t("aeName")}` });
    const weight = h("input", { name: `${kind}-${i}-weight`, type: "number", min: 1, max: 100, value: c.weight, required: true, "aria-label": `${t("aeRow", { n: i + 1 })} ${t("aeWeight")}` });
    const max = h("input", { name: `${kind}-${i}-max`, type: "number", min: 1, max: 100, value: c.max, required: true, "aria-label": `${t("aeRow", { n: i + 1 })} ${t("aeMax")}` });
    name.addEventListener("input", () => (c.name = name.value));
    weight.addEventListener("input", () => (c.weight = Number(weight.value)));
    max.addEventListener("input", () => (c.max = Number(max.value)));
    const remove = h("button", { type: "button", class: "small", "aria-label": c.name ? t("aeRemove", { name: c.name }) : t("aeRemoveBlank") }, "×");
    remove.addEventListener("click", () => {
      list.splice(i, 1);
      redraw();
    });
    return h("li", { class: "criterion", dataset: { kind, row: i } }, name, weight, max, remove);
  });
  const add = h("button", { type: "button", class: "small" }, t("aeAdd"));
  add.addEventListener("click", () => {
    list.push({ name: "", weight: 1, max: 5 });
    redraw(`${kind}-${list.length - 1}-name`);
  });
  const box = groupBox(
    kind,
    legend,
    rows.length ? h("div", { class: "criterion head muted", "aria-hidden": "true" }, h("span", {}, t("aeName")), h("span", {}, t("aeWeight")), h("span", {}, t("aeMax")), h("span", {})) : null,
    rows.length ? h("ol", { class: "list criteria" }, rows) : h("p", { class: "muted" }, t("aeNone")),
    add,
  );
  box.className = "criteria-box";
  return box;
}

export function draw(container, draft, refresh) {
  const redraw = (focus) => {
    draw(container, draft, refresh);
    if (focus) container.querySelector(`[name="${focus}"]`)?.focus();
  };
  const cosigners = h("input", { type: "checkbox", name: "cosigners_evaluate", checked: draft.cosigners_evaluate });
  cosigners.addEventListener("change", () => (draft.cosigners_evaluate = cosigners.checked));
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("aeTitle") },
    criteriaBox("handling", t("aeHandling"), draft.handling, redraw),
    criteriaBox("quality", t("aeQuality"), draft.quality, redraw),
    h("div", { class: "field", dataset: { field: "cosigners_evaluate" } }, h("label", { class: "check" }, cosigners, t("aeCosigners")), h("small", { class: "muted" }, t("aeCosignersHint"))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("aeSave"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(form, () => save(draft));
    if (saved) {
      toast(t("aeSaved"));
      refresh();
    }
  });
  mount(container, section(t("aeTitle"), h("p", { class: "muted" }, t("aeHint")), form));
}
