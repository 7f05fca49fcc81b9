// The itemised reply (清单式答复) and the co-handling units' opinions, shared by the proposal
// page: the four classes in words, a proposal's numbered suggestions, a reply's items, the lead
// unit's editor of one row per suggestion (class, text, and the due date a class B promises), and
// the co-units' opinions as the lead unit reads them before replying.
import { addTexts, t } from "./i18n.js";
import { badge, dayOf, fmt, h } from "./ui.js";

addTexts({
  "zh-CN": {
    rcA: "已解决或采纳", rcB: "正在解决或列入计划", rcC: "因条件限制暂缓", rcD: "留作参考",
    rcClass: "{cls} 类：{words}", rcShort: "{cls} 类", rcSuggestions: "建议", rcSuggestionN: "建议 {n}",
    rcPick: "答复类别", rcText: "答复说明", rcCommitment: "承诺事项（将做什么）", rcDue: "承诺完成日期",
    rcDueBy: "承诺于 {due} 前完成", rcItems: "逐条答复", rcItemsHint: "每条建议都要选一个类别；B 类须写明承诺事项和完成日期。",
    rcLetter: "添加附件（答复函）", rcNoSuggestions: "该提案未列出具体建议，可直接答复。",
    opTitle: "协办单位意见", opSend: "向主办单位提交意见", opText: "意见内容", opSubmit: "提交意见", opSent: "意见已提交",
    opNone: "协办单位尚未提交意见。", opBy: "{unit} · {date}", opBeforeReply: "协办单位已提交 {n} 条意见，请在答复前阅读",
  },
  en: {
    rcA: "Solved or adopted", rcB: "Being solved or planned", rcC: "Deferred for lack of means", rcD: "Kept for reference",
    rcClass: "Class {cls}: {words}", rcShort: "Class {cls}", rcSuggestions: "Suggestions", rcSuggestionN: "Suggestion {n}",
    rcPick: "Class", rcText: "Answer", rcCommitment: "Commitment (what will be done)", rcDue: "Promised by",
    rcDueBy: "Promised by {due}", rcItems: "Answer each suggestion", rcItemsHint: "Choose a class for every suggestion; class B needs the commitment and its date.",
    rcLetter: "Attach files (the reply letter)", rcNoSuggestions: "The proposal lists no suggestions: reply with text.",
    opTitle: "Co-handling units' opinions", opSend: "Send your opinion to the lead unit", opText: "Opinion", opSubmit: "Send the opinion", opSent: "Opinion sent",
    opNone: "No co-handling unit has sent an opinion yet.", opBy: "{unit} · {date}", opBeforeReply: "The co-handling units sent {n} opinions: read them before replying",
  },
});

export const REPLY_CLASSES = ["A", "B", "C", "D"];
const CLASS_KIND = { A: "good", B: "pending", C: "warn", D: "" };

export const classWords = (cls) => t("rcClass", { cls, words: t(`rc${cls}`) });
export const classBadge = (cls) => badge(classWords(cls), CLASS_KIND[cls]);

// The proposal's suggestions, numbered as the reply's items refer to them.
export function suggestionsList(suggestions) {
  return h("ol", { class: "suggestions" }, suggestions.map((s) => h("li", {}, s)));
}

// A reply's items, one per suggestion: the suggestion, its class in words, the answer, the date.
export function replyItemsView(items, suggestions) {
  if (!items.length) return null;
  return h(
    "ol",
    { class: "reply-items", "aria-label": t("rcItems") },
    items.map((item) =>
      h(
        "li",
        { dataset: { suggestion: item.suggestion, class: item.class } },
        h("div", { class: "row" }, h("b", {}, t("rcSuggestionN", { n: item.suggestion })), classBadge(item.class)),
        suggestions[item.suggestion - 1] ? h("p", { class: "muted" }, suggestions[item.suggestion - 1]) : null,
        item.text ? h("p", { class: "prose" }, item.text) : null,
        item.due ? h("p", {}, t("rcDueBy", { due: item.due })) : null,
      ),
    ),
  );
}

// The lead unit's rows, one per suggestion. `draft` ({n: {class, text, due}}) keeps what was
// chosen across redraws; `read()` gives the items as the API takes them.
let editors = 0;
export function itemsEditor(suggestions, draft) {
  editors += 1;
  const rows = suggestions.map((s, i) => itemRow(`ri-${editors}-${i + 1}`, i + 1, s, draft));
  return {
    element: h("div", { class: "items-editor" }, h("h3", {}, t("rcItems")), h("p", { class: "muted" }, t("rcItemsHint")), rows),
    read: () =>
      suggestions.map((_s, i) => {
        const row = draft[i + 1] || {};
        const item = { suggestion: i + 1, class: row.class, text: (row.text || "").trim() };
        if (row.class === "B") item.due = row.due || null;
        return item;
      }),
  };
}

function itemRow(id, n, suggestion, draft) {
  if (!draft[n]) draft[n] = { class: "", text: "", due: "" };
  const row = draft[n];
  const text = h("textarea", { id: `${id}-text`, name: `text-${n}`, rows: 2, maxlength: 5000 });
  text.value = row.text;
  const textLabel = h("label", { for: text.id }, t("rcText"));
  const due = h("input", { id: `${id}-due`, name: `due-${n}`, type: "date", min: dayOf(new Date()), value: row.due });
  const dueField = h("div", { class: "field" }, h("label", { for: due.id }, t("rcDue")), due);
  const choices = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, t("rcPick")),
    REPLY_CLASSES.map((cls) => h("label", { class: "check" }, h("input", { type: "radio", name: `${id}-class`, value: cls, required: true, checked: row.class === cls }), classWords(cls))),
  );
  const showB = () => {
    const b = row.class === "B";
    dueField.hidden = !b;
    due.required = b;
    text.required = b;
    textLabel.textContent = b ? t("rcCommitment") : t("rcText");
  };
  choices.addEventListener("change", (event) => {
    row.class = event.target.value;
    showB();
  });
  text.addEventListener("input", () => {
    row.text = text.value;
  });
  due.addEventListener("input", () => {
    row.due = due.value;
  });
  showB();
  return h(
    "fieldset",
    { class: "reply-item", dataset: { suggestion: n } },
    h("legend", {}, t("rcSuggestionN", { n })),
    h("p", { class: "prose" }, suggestion),
    choices,
    h("div", { class: "field" }, textLabel, text),
    dueField,
  );
}

// The co-units' opinions, for the lead unit (and staff, leaders and the co-units themselves).
export function opinionsView(opinions, unitName, fileList) {
  if (!opinions.length) return h("p", { class: "muted" }, t("opNone"));
  return h(
    "ul",
    { class: "list opinions" },
    opinions.map((o) =>
      h(
        "li",
        { dataset: { opinion: o.id } },
        h("p", { class: "muted" }, t("opBy", { unit: o.unit_name || unitName(o.unit_id), date: fmt.date(o.at) })),
        h("p", { class: "prose" }, o.text),
        o.attachments.length ? fileList(o.attachments) : null,
      ),
    ),
  );
}
