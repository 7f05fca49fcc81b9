// Import proposals from another proposal system's .xlsx (staff, `#/proposals/import`): choose the
// file, see a preview of every row with its problems (unknown unit or member, a number taken or
// repeated, a bad date, a missing title), then import the good rows, all at once or none.
import { ApiError, session } from "../api.js";
import { fieldBox, submitting } from "../form-errors.js";
import { addTexts, lang, t } from "../i18n.js";
import { notAllowed } from "../page.js";
import { badge, h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    imTitle: "导入提案", imFile: "Excel 文件（.xlsx）", imPreview: "预览",
    imFileHint: "第一行为列名：案号、标题（必填），提案人、集体提案人、类别、主办单位、协办单位、提交日期、重点提案、摘要；也可直接使用本系统导出的提案清单。每次最多 2000 行、5 MB。",
    imPick: "请选择文件", imSummary: "共 {total} 行：可导入 {good} 行，有问题 {bad} 行。", imIgnored: "未识别、将忽略的列：{columns}",
    imRow: "行号", imNumber: "案号", imTitleCol: "标题", imProposers: "提案人", imLead: "主办单位", imCo: "协办单位",
    imDate: "提交日期", imProblems: "问题", imOk: "可导入", imImport: "导入 {n} 行", imNothing: "没有可以导入的行，请修改文件后重新预览。",
    imDone: "已导入 {n} 件提案", imDoneTitle: "导入完成", imAgain: "再导入一个文件", imList: "查看提案清单", imGroup: "（集体）",
    imPreviewTable: "导入预览", imImported: "已导入", imUpload: "上传文件",
  },
  en: {
    imTitle: "Import proposals", imFile: "Excel file (.xlsx)", imPreview: "Preview",
    imFileHint: "The first row names the columns: 案号 and 标题 (required), 提案人, 集体提案人, 类别, 主办单位, 协办单位, 提交日期, 重点提案, 摘要; our own proposal export works too. At most 2,000 rows and 5 MB at a time.",
    imPick: "Choose a file", imSummary: "{total} rows: {good} can be imported, {bad} have problems.", imIgnored: "Columns not recognised, ignored: {columns}",
    imRow: "Row", imNumber: "No.", imTitleCol: "Title", imProposers: "Proposers", imLead: "Lead unit", imCo: "Co-handling units",
    imDate: "Submitted", imProblems: "Problems", imOk: "Ready", imImport: "Import {n} rows", imNothing: "No row can be imported; fix the file and preview again.",
    imDone: "{n} proposals imported", imDoneTitle: "Imported", imAgain: "Import another file", imList: "See the proposals", imGroup: " (group)",
    imPreviewTable: "Import preview", imImported: "Imported", imUpload: "Upload the file",
  },
});

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

// ---------------------------------------------------------------- model

// The workbook goes up as the file's own bytes; the answer is the preview or the result.
async function send(file, dryRun) {
  const response = await fetch(`/api/proposals/import?dry_run=${dryRun}`, {
    method: "POST",
    headers: { "Content-Type": XLSX, Authorization: `Bearer ${session()?.token}`, "Accept-Language": lang },
    body: file,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// ---------------------------------------------------------------- view

export async function show(main) {
  if (session()?.person?.role !== "staff") return mount(main, notAllowed());
  const result = h("div", { id: "import-result" });
  mount(main, h("div", { class: "toolbar" }, h("h1", {}, t("imTitle"))), uploadForm(result), result);
}

function uploadForm(result) {
  const file = h("input", { type: "file", name: "file", accept: `.xlsx,${XLSX}`, required: true });
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("imTitle") },
    fieldBox("(body)", t("imFile"), file, t("imFileHint")),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("imPreview"))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return toast(t("imPick"));
    const chosen = file.files[0];
    const preview = await submitting(form, () => send(chosen, true));
    if (preview) mount(result, previewOf(preview, chosen, result));
  });
  return section(t("imUpload"), form);
}

const cell = (label, ...children) => h("td", { dataset: { label } }, ...children);
const nowrap = (label, text) => h("td", { class: "nowrap", dataset: { label } }, text);

function row(r) {
  const proposers = r.group_proposer ? `${r.group_proposer}${t("imGroup")}` : r.proposers.join("、");
  return h(
    "tr",
    { class: r.errors.length ? "has-errors" : null },
    cell(t("imRow"), String(r.row)),
    nowrap(t("imNumber"), r.number || "—"),
    cell(t("imTitleCol"), r.proposal_id ? h("a", { href: `#/proposals/${r.proposal_id}` }, r.title) : r.title || "—"),
    cell(t("imProposers"), proposers || "—"),
    cell(t("imLead"), r.lead_unit || "—"),
    cell(t("imCo"), r.co_units.join("、") || "—"),
    nowrap(t("imDate"), r.submitted_on || "—"),
    cell(
      t("imProblems"),
      r.errors.length
        ? h("ul", { class: "import-errors" }, r.errors.map((e) => h("li", {}, `${e.column}：${e.message}`)))
        : badge(r.proposal_id ? t("imImported") : t("imOk"), "good"),
    ),
  );
}

function rowsTable(rows) {
  const heads = ["imRow", "imNumber", "imTitleCol", "imProposers", "imLead", "imCo", "imDate", "imProblems"];
  return h(
    "div",
    { class: "table-scroll stack card", tabindex: "0", role: "region", "aria-label": t("imPreviewTable") },
    h("table", {}, h("thead", {}, h("tr", {}, heads.map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, rows.map(row))),
  );
}

function previewOf(preview, file, result) {
  const confirm = h("form", { novalidate: true, "aria-label": t("imImport", { n: preview.good }) });
  if (preview.good) confirm.append(h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("imImport", { n: preview.good }))));
  confirm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await submitting(confirm, () => send(file, false));
    if (done) {
      toast(t("imDone", { n: done.imported }));
      mount(result, doneOf(done));
    }
  });
  return [
    h("h2", {}, t("imPreview")),
    h("p", { role: "status" }, t("imSummary", preview)),
    preview.ignored_columns.length ? h("p", { class: "muted" }, t("imIgnored", { columns: preview.ignored_columns.join("、") })) : null,
    preview.good ? null : h("p", { class: "alert warn" }, t("imNothing")),
    rowsTable(preview.rows),
    confirm,
  ];
}

function doneOf(done) {
  return [
    h("h2", {}, t("imDoneTitle")),
    h("p", { class: "alert good", role: "status" }, t("imDone", { n: done.imported })),
    h("div", { class: "actions" }, h("a", { class: "button primary", href: "#/proposals" }, t("imList")), h("button", { type: "button", onclick: () => location.reload() }, t("imAgain"))),
    rowsTable(done.rows),
  ];
}
