// 优秀提案评选: selection rounds. `#/selections` lists the rounds (staff open one here: criteria,
// reviewers, candidates); `#/my/reviews` lists the rounds the reader scores; `#/selections/12`
// is one round: its reviewers' progress, the scoring form for a reviewer, and for staff and
// leaders (everyone once published) the ranking with ties, the publish step and the exports.
import { download, get, post, session } from "../api.js";
import { go } from "../app.js";
import { fieldBox, groupBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notFound } from "../page.js";
import { attempt, badge, dayOf, fmt, h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    seTitle: "优秀提案评选", seMine: "我的评审", seNew: "发起评选", seYear: "年度", seName: "评选名称（可不填）",
    seCriteria: "评选标准", seCriterion: "标准名称", seWeight: "权重", seMax: "满分", seAddCriterion: "添加一项标准",
    seRemove: "删除", seReviewers: "评审", seCandidates: "候选提案", seCreate: "发起评选", seCreated: "已发起评选",
    seStatus_open: "评审中", seStatus_published: "已公布", seNone: "还没有评选。", seNoneMine: "没有需要您评分的评选。",
    seCounts: "候选提案 {c} 件，评审 {r} 人", seMyProgress: "您已评 {n}/{c} 件", seOpen: "查看",
    seNoProposals: "该年度没有提案。", seProgress: "{name}：已评 {n}/{c} 件", seRanking: "评分排名",
    seRank: "名次", seTie: "并列", seScore: "加权得分", seScoredBy: "已评分", seNotScored: "未评分评审", seChosen: "入选",
    seUnranked: "未评分", sePublish: "公布入选名单", sePublishConfirm: "公布后评分将不能再修改。确定公布所选的 {n} 件提案吗？",
    sePublished: "已公布入选名单", sePickChosen: "请勾选入选的提案", seExportXlsx: "导出 Excel", seExportDocx: "导出 Word",
    seScoreThis: "评分", seSave: "保存评分", seSaved: "已保存评分（加权 {score} 分）", seScored: "已评分",
    seNotYet: "未评分", seFinal: "本轮已公布，评分不能再修改。", seHowScore: "每项标准在 0 到满分之间打分；加权得分 = 100 × Σ(权重 × 得分 ÷ 满分) ÷ Σ权重。",
    seCriterionLabel: "{name}（满分 {max}，权重 {weight}）", seSummary: "提案摘要", seChooseLabel: "{number} 入选",
    seRankingHidden: "排名在公布前仅供工作人员和领导查看。", seCandidatesHint: "勾选本年度参加评选的提案",
    seReviewersHint: "勾选担任评审的委员、领导或工作人员", seMyScores: "我的评分", role_staff: "工作人员", sePublishedAt: "公布于 {date}",
  },
  en: {
    seTitle: "Best proposal selection", seMine: "My reviews", seNew: "Open a round", seYear: "Year", seName: "Name (optional)",
    seCriteria: "Criteria", seCriterion: "Criterion", seWeight: "Weight", seMax: "Highest score", seAddCriterion: "Add a criterion",
    seRemove: "Remove", seReviewers: "Reviewers", seCandidates: "Candidate proposals", seCreate: "Open the round", seCreated: "The round is open",
    seStatus_open: "Scoring", seStatus_published: "Published", seNone: "No selection rounds yet.", seNoneMine: "No round waits for your scores.",
    seCounts: "{c} candidates, {r} reviewers", seMyProgress: "You scored {n}/{c}", seOpen: "Open",
    seNoProposals: "No proposals in this year.", seProgress: "{name}: scored {n}/{c}", seRanking: "Ranking",
    seRank: "Rank", seTie: "tie", seScore: "Weighted score", seScoredBy: "Scored by", seNotScored: "Not scored by", seChosen: "Chosen",
    seUnranked: "Not scored", sePublish: "Publish the chosen list", sePublishConfirm: "Scores cannot change after publishing. Publish the {n} chosen proposals?",
    sePublished: "The chosen list is published", sePickChosen: "Tick the chosen proposals", seExportXlsx: "Export Excel", seExportDocx: "Export Word",
    seScoreThis: "Score", seSave: "Save scores", seSaved: "Scores saved (weighted {score})", seScored: "Scored",
    seNotYet: "Not scored", seFinal: "The round is published; scores are final.", seHowScore: "Score each criterion from 0 to its highest score; weighted score = 100 × Σ(weight × score ÷ highest) ÷ Σ weights.",
    seCriterionLabel: "{name} (out of {max}, weight {weight})", seSummary: "Summary", seChooseLabel: "Choose {number}",
    seRankingHidden: "Until published, the ranking is for staff and leaders.", seCandidatesHint: "Tick this year's proposals in the round",
    seReviewersHint: "Tick the members, leaders or staff who score", seMyScores: "My scores", role_staff: "Staff", sePublishedAt: "Published on {date}",
  },
});

const DEFAULT_CRITERIA = [
  { name: "选题价值", weight: 3, max: 10 },
  { name: "建议可行性", weight: 4, max: 10 },
  { name: "办理成效", weight: 3, max: 10 },
];
const REVIEWER_ROLES = new Set(["member", "leader", "staff"]);

// ---------------------------------------------------------------- model

const me = () => session()?.person;
const isStaff = () => me()?.role === "staff";
const reads = () => ["staff", "leader"].includes(me()?.role);

async function loadList(mine) {
  const list = await get("/api/selections");
  return { mine, items: mine ? list.items.filter((s) => s.is_reviewer) : list.items };
}

async function loadRound(id) {
  const round = await get(`/api/selections/${id}`);
  const ranking = reads() || round.status === "published" ? await get(`/api/selections/${id}/ranking`) : null;
  return { round, ranking };
}

async function loadChoices(year) {
  const [proposals, people] = await Promise.all([get(`/api/proposals?year=${year}&limit=500`), get("/api/people")]);
  return { proposals: proposals.items, people: people.items.filter((p) => REVIEWER_ROLES.has(p.role)) };
}

const scoreText = (x) => (x === null || x === undefined ? "—" : x.toFixed(2));
const rankText = (r) => (r.rank === null ? t("seUnranked") : r.tied ? `${r.rank}（${t("seTie")}）` : String(r.rank));

// ---------------------------------------------------------------- list

export async function show(main, where) {
  if (where.id) return loadPage(main, () => loadRound(where.id), (data) => drawRound(main, where.id, data));
  const mine = where.page === "myReviews";
  return loadPage(main, () => loadList(mine), (data) => drawList(main, data));
}

function roundCard(s) {
  return h(
    "li",
    { class: "card" },
    h("h2", {}, h("a", { href: `#/selections/${s.id}` }, s.title), " ", badge(t(`seStatus_${s.status}`), s.status === "published" ? "good" : "status")),
    h("p", { class: "muted" }, t("seCounts", { c: s.candidates, r: s.reviewers })),
    s.is_reviewer ? h("p", {}, t("seMyProgress", { n: s.my_scored, c: s.candidates })) : null,
  );
}

function drawList(main, { mine, items }) {
  const staff = isStaff() && !mine;
  mount(
    main,
    h("div", { class: "toolbar" }, h("h1", {}, mine ? t("seMine") : t("seTitle"))),
    items.length ? h("ul", { class: "sel-rounds" }, items.map(roundCard)) : h("p", { class: "muted empty" }, mine ? t("seNoneMine") : t("seNone")),
    staff ? newRound() : null,
  );
}

// ---------------------------------------------------------------- open a round (staff)

function criterionRow(c, rows) {
  const name = h("input", { name: "criterion-name", value: c.name, maxlength: 50, required: true, "aria-label": t("seCriterion") });
  const weight = h("input", { name: "criterion-weight", type: "number", min: 1, max: 100, value: c.weight, required: true, "aria-label": t("seWeight") });
  const max = h("input", { name: "criterion-max", type: "number", min: 1, max: 1000, value: c.max, required: true, "aria-label": t("seMax") });
  const row = h("li", { class: "criterion" }, name, h("span", { class: "muted" }, t("seWeight")), weight, h("span", { class: "muted" }, t("seMax")), max);
  const remove = h("button", { type: "button", class: "link", onclick: () => { if (rows.children.length > 1) row.remove(); } }, t("seRemove"));
  row.append(remove);
  return row;
}

function criteriaOf(rows) {
  return [...rows.querySelectorAll("li")].map((li) => ({
    name: li.querySelector("[name=criterion-name]").value.trim(),
    weight: Number(li.querySelector("[name=criterion-weight]").value),
    max: Number(li.querySelector("[name=criterion-max]").value),
  }));
}

const ticked = (box) => [...box.querySelectorAll("input[type=checkbox]:checked")].map((c) => Number(c.value));
const checkbox = (name, value, label) => h("label", { class: "check" }, h("input", { type: "checkbox", name, value }), label);

function newRound() {
  const year = h("input", { type: "number", name: "year", min: 2000, max: 2100, value: Number(dayOf(new Date()).slice(0, 4)), required: true });
  const title = h("input", { name: "title", maxlength: 200 });
  const rows = h("ol", { class: "sel-criteria" });
  for (const c of DEFAULT_CRITERIA) rows.append(criterionRow(c, rows));
  const add = h("button", { type: "button", onclick: () => rows.append(criterionRow({ name: "", weight: 1, max: 10 }, rows)) }, t("seAddCriterion"));
  const reviewers = groupBox("reviewer_ids", t("seReviewers"), h("p", { class: "muted" }, t("seReviewersHint")), h("div", { class: "sel-choices" }));
  const candidates = groupBox("proposal_ids", t("seCandidates"), h("p", { class: "muted" }, t("seCandidatesHint")), h("div", { class: "sel-choices" }));
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("seNew") },
    h("div", { class: "grid two" }, fieldBox("year", t("seYear"), year), fieldBox("title", t("seName"), title)),
    h("fieldset", { class: "sel-box", dataset: { field: "criteria" } }, h("legend", {}, t("seCriteria")), rows, add, h("small", { class: "error", role: "alert", hidden: true })),
    reviewers,
    candidates,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("seCreate"))),
  );
  // The choices follow the year; only the latest year's answer is drawn, once (ticks stay).
  let shown = null;
  const fill = async () => {
    const wanted = Number(year.value);
    if (wanted === shown) return;
    shown = wanted;
    const choices = await attempt(() => loadChoices(wanted));
    if (!choices || shown !== wanted) {
      if (!choices && shown === wanted) shown = null;
      return;
    }
    mount(reviewers.querySelector(".sel-choices"), choices.people.map((p) => checkbox("reviewer", p.id, `${p.name}（${t(`role_${p.role}`)}）`)));
    mount(
      candidates.querySelector(".sel-choices"),
      choices.proposals.length ? choices.proposals.map((p) => checkbox("candidate", p.id, `${p.number} ${p.title}`)) : h("p", { class: "muted" }, t("seNoProposals")),
    );
  };
  year.addEventListener("change", fill);
  fill();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      year: Number(year.value),
      criteria: criteriaOf(rows),
      reviewer_ids: ticked(reviewers),
      proposal_ids: ticked(candidates),
    };
    if (title.value.trim()) body.title = title.value.trim();
    const made = await submitting(form, () => post("/api/selections", body));
    if (made) {
      toast(t("seCreated"));
      go(`#/selections/${made.id}`);
    }
  });
  return section(t("seNew"), form);
}

// ---------------------------------------------------------------- one round

function drawRound(main, id, { round, ranking }) {
  if (!round) return mount(main, notFound());
  const refresh = () => loadPage(main, () => loadRound(id), (data) => drawRound(main, id, data));
  const c = round.candidates.length;
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, round.title, " ", badge(t(`seStatus_${round.status}`), round.status === "published" ? "good" : "status")),
      ranking
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", onclick: () => attempt(() => download(`/api/selections/${id}/ranking.xlsx`, "selection.xlsx")) }, t("seExportXlsx")),
            h("button", { type: "button", onclick: () => attempt(() => download(`/api/selections/${id}/ranking.docx`, "selection.docx")) }, t("seExportDocx")),
          )
        : null,
    ),
    round.published_at ? h("p", {}, t("sePublishedAt", { date: fmt.date(round.published_at) })) : null,
    h("p", { class: "muted" }, t("seHowScore")),
    h(
      "div",
      { class: "grid two" },
      section(t("seCriteria"), h("ul", {}, round.criteria.map((x) => h("li", {}, t("seCriterionLabel", x))))),
      section(t("seReviewers"), h("ul", {}, round.reviewers.map((r) => h("li", { dataset: { reviewer: r.id } }, t("seProgress", { name: r.name, n: r.scored, c }))))),
    ),
    ranking ? rankingSection(round, ranking, refresh) : h("p", { class: "muted" }, t("seRankingHidden")),
    round.is_reviewer ? scoringSection(round) : null,
  );
}

function rankingRow(r, round, choosing) {
  const cell = (label, ...children) => h("td", { dataset: { label } }, ...children);
  const choose = choosing
    ? h("input", { type: "checkbox", name: "chosen", value: r.proposal_id, "aria-label": t("seChooseLabel", { number: r.number }) })
    : r.chosen
      ? badge(t("seChosen"), "good")
      : "";
  return h(
    "tr",
    { class: r.tied ? "tied" : null },
    cell(t("seRank"), rankText(r)),
    cell(t("proposalNo"), r.number),
    cell(t("title"), reads() ? h("a", { href: `#/proposals/${r.proposal_id}` }, r.title) : r.title),
    cell(t("seScore"), h("b", {}, scoreText(r.score))),
    round.criteria.map((x, i) => cell(x.name, scoreText(r.criteria[i]))),
    cell(t("seScoredBy"), `${r.scored_by}/${round.reviewers.length}`),
    cell(t("seNotScored"), r.not_scored_by.join("、") || "—"),
    cell(t("seChosen"), choose),
  );
}

function rankingSection(round, ranking, refresh) {
  const choosing = isStaff() && round.status === "open";
  const table = h(
    "div",
    { class: "table-scroll stack card", tabindex: "0", role: "region", "aria-label": t("seRanking") },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("seRank")),
        h("th", { scope: "col" }, t("proposalNo")),
        h("th", { scope: "col" }, t("title")),
        h("th", { scope: "col" }, t("seScore")),
        round.criteria.map((x) => h("th", { scope: "col" }, x.name)),
        h("th", { scope: "col" }, t("seScoredBy")),
        h("th", { scope: "col" }, t("seNotScored")),
        h("th", { scope: "col" }, t("seChosen")))),
      h("tbody", {}, ranking.rows.map((r) => rankingRow(r, round, choosing))),
    ),
  );
  if (!choosing) return [h("h2", { class: "sel-heading" }, t("seRanking")), table];
  const form = h("form", { novalidate: true, "aria-label": t("sePublish") }, table, h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("sePublish"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ids = ticked(form);
    if (!ids.length) return toast(t("sePickChosen"));
    if (!confirm(t("sePublishConfirm", { n: ids.length }))) return;
    const done = await submitting(form, () => post(`/api/selections/${round.id}/publish`, { proposal_ids: ids }));
    if (done) {
      toast(t("sePublished"));
      refresh();
    }
  });
  return [h("h2", { class: "sel-heading" }, t("seRanking")), form];
}

// ---------------------------------------------------------------- a reviewer's scores

function scoreForm(round, candidate) {
  const open = round.status === "open";
  const inputs = round.criteria.map((x, i) =>
    h("input", { type: "number", name: `score-${i}`, min: 0, max: x.max, step: 1, required: true, disabled: !open, value: candidate.my_scores ? candidate.my_scores[i] : "" }),
  );
  const form = h(
    "form",
    { novalidate: true, class: "score-form", "aria-label": `${t("seScoreThis")} ${candidate.number}` },
    h("div", { class: "sel-scores", dataset: { field: "scores" } }, round.criteria.map((x, i) => fieldBox(`scores.${i}`, t("seCriterionLabel", x), inputs[i])), h("small", { class: "error", role: "alert", hidden: true })),
    open ? h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("seSave"))) : null,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { proposal_id: candidate.proposal_id, scores: inputs.map((i) => (i.value === "" ? -1 : Number(i.value))) };
    const saved = await submitting(form, () => post(`/api/selections/${round.id}/scores`, body));
    if (saved) {
      // Only this candidate changes: the reader may be typing in another one's form.
      toast(t("seSaved", { score: saved.weighted.toFixed(2) }));
      form.closest(".candidate")?.querySelector(".badge")?.replaceWith(badge(t("seScored"), "good"));
      candidate.my_scores = body.scores;
      const mine = round.reviewers.find((r) => r.id === me()?.id);
      const line = document.querySelector(`[data-reviewer="${me()?.id}"]`);
      if (mine && line) line.textContent = t("seProgress", { name: mine.name, n: round.candidates.filter((x) => x.my_scores).length, c: round.candidates.length });
    }
  });
  return form;
}

function scoringSection(round) {
  return section(
    t("seMyScores"),
    round.status === "published" ? h("p", { class: "muted" }, t("seFinal")) : null,
    h(
      "ol",
      { class: "sel-candidates" },
      round.candidates.map((c) =>
        h(
          "li",
          { class: "candidate" },
          h("h3", {}, `${c.number} ${c.title} `, c.my_scores ? badge(t("seScored"), "good") : badge(t("seNotYet"), "warn")),
          c.summary ? h("details", {}, h("summary", {}, t("seSummary")), h("p", { class: "prose" }, c.summary)) : null,
          scoreForm(round, c),
        ),
      ),
    ),
  );
}
