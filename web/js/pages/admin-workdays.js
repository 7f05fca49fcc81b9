// The working-day calendar: see a year's days off and extra working days (调休上班), and upload
// next year's State Council notice as xieshang's JSON format or as an ICS file.
import { ApiError, get, session } from "../api.js";
import { go } from "../app.js";
import { fieldBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    awYear: "年份", awPickYear: "选择年份", awShow: "查看", awSource: "来源：{source}", awDaysOff: "放假日（{n} 天）", awExtra: "调休上班日（{n} 天）",
    awUpload: "上传 {year} 年的放假安排", awFile: "通知文件（JSON 或 ICS）",
    awFileHint: "JSON 使用 xieshang-workdays/1 格式；ICS 中全天事件为放假日，标题含“上班”或“补班”的为调休上班日。只能包含该年的日期，不超过 2 MB。",
    awUploaded: "已更新 {year} 年的工作日历", awPick: "请选择文件", awNone: "无",
  },
  en: {
    awYear: "Year", awPickYear: "Choose the year", awShow: "Show", awSource: "Source: {source}", awDaysOff: "Days off ({n})", awExtra: "Extra working days ({n})",
    awUpload: "Upload the notice for {year}", awFile: "Notice file (JSON or ICS)",
    awFileHint: "JSON in the xieshang-workdays/1 format; in ICS, all-day events are days off, and those whose summary says 上班 or 补班 are extra working days. Dates of that year only, up to 2 MB.",
    awUploaded: "The working days of {year} are updated", awPick: "Choose a file", awNone: "none",
  },
});

// ---------------------------------------------------------------- model

export async function load(query) {
  const year = Number(query.get("year")) || new Date().getFullYear() + 1;
  return { year, calendar: await get(`/api/workdays/${year}`) };
}

// The notice goes up as the file's own bytes, typed by its name.
async function upload(year, file) {
  const type = /\.ics$/i.test(file.name) || file.type === "text/calendar" ? "text/calendar" : "application/json";
  const response = await fetch(`/api/workdays/${year}`, {
    method: "PUT",
    headers: { "Content-Type": type, Authorization: `Bearer ${session()?.token}` },
    body: file,
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// ---------------------------------------------------------------- view

const days = (items) => (items.length ? h("ul", { class: "list" }, items.map((d) => h("li", {}, h("time", { datetime: d.date }, d.date), " ", d.name))) : h("p", { class: "muted" }, t("awNone")));

function yearForm(year) {
  const input = h("input", { type: "number", name: "year", min: 2000, max: 2100, value: year });
  const form = h("form", { class: "year-pick", "aria-label": t("awPickYear") }, fieldBox("year", t("awYear"), input), h("button", { type: "submit" }, t("awShow")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    go(`#/admin/workdays?year=${Number(input.value) || year}`);
  });
  return form;
}

function uploadForm(year, refresh) {
  const file = h("input", { type: "file", name: "notice", accept: ".json,.ics,application/json,text/calendar", required: true });
  const form = h(
    "form",
    { novalidate: true, "aria-label": t("awUpload", { year }) },
    fieldBox("(body)", t("awFile"), file, t("awFileHint")),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("awUpload", { year }))),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!file.files.length) return toast(t("awPick"));
    const done = await submitting(form, () => upload(year, file.files[0]));
    if (done) {
      toast(t("awUploaded", { year }));
      refresh();
    }
  });
  return section(t("awUpload", { year }), form);
}

export function draw(container, { year, calendar }, refresh) {
  mount(
    container,
    yearForm(year),
    section(
      String(calendar.year),
      h("p", { class: "muted" }, t("awSource", { source: calendar.source })),
      h("div", { class: "grid" },
        h("div", {}, h("h3", {}, t("awDaysOff", { n: calendar.days_off.length })), days(calendar.days_off)),
        h("div", {}, h("h3", {}, t("awExtra", { n: calendar.extra_workdays.length })), days(calendar.extra_workdays))),
    ),
    uploadForm(year, refresh),
  );
}
