// 我的草稿 (#/my/drafts): a member's drafts, the invitations to co-sign others' drafts (accept or
// decline, once), and this year's submission window.
import { get, session } from "../api.js";
import { answerBadge, answerCosign, loadWindows } from "../drafting.js";
import { addTexts, t } from "../i18n.js";
import { loadPage, notAllowed } from "../page.js";
import { attempt, badge, fmt, h, mount, titled, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    myDrafts: "我的草稿", myDraftNew: "起草新提案", mdNone: "您还没有草稿。",
    mdInvites: "联名邀请", mdNoInvites: "没有待您确认的联名邀请。", mdFrom: "提案人：{name}", mdAccept: "同意联名",
    mdDecline: "谢绝", mdAccepted: "您已同意联名", mdDeclined: "您已谢绝联名", mdWindow: "{year} 年提案提交时间：{opens} 至 {closes}",
    mdWindowOpen: "正在受理", mdWindowClosed: "不在受理时间内", mdNoWindow: "今年的提案提交时间尚未公布，可先保存草稿。",
    mdUpdated: "最后修改 {date}", mdSuggestionsN: "{n} 条建议", mdCosignersN: "联名 {n} 人",
  },
  en: {
    myDrafts: "My drafts", myDraftNew: "Draft a new proposal", mdNone: "You have no drafts.",
    mdInvites: "Invitations to co-sign", mdNoInvites: "No invitation waits for your answer.", mdFrom: "By {name}", mdAccept: "Co-sign",
    mdDecline: "Decline", mdAccepted: "You co-signed it", mdDeclined: "You declined", mdWindow: "Proposals for {year}: {opens} to {closes}",
    mdWindowOpen: "open now", mdWindowClosed: "closed now", mdNoWindow: "This year's submission dates are not set yet; you may save drafts.",
    mdUpdated: "Changed {date}", mdSuggestionsN: "{n} suggestions", mdCosignersN: "{n} co-signers",
  },
});

// ---------------------------------------------------------------- model

class MyDraftsModel {
  constructor() {
    this.me = session()?.person;
    this.drafts = [];
    this.invites = [];
    this.window = null;
  }

  async load() {
    const [list, windows] = await Promise.all([get("/api/proposals?status=draft&limit=500&sort=-updated_at"), loadWindows()]);
    this.drafts = list.items.filter((p) => p.author_id === this.me.id);
    this.invites = list.items.filter((p) => p.author_id !== this.me.id);
    const year = Number(windows.today.slice(0, 4));
    this.window = windows.items.find((w) => w.year === year) || null;
    return this;
  }

  myAnswer(p) {
    return p.cosigners.find((c) => c.person_id === this.me.id)?.answer || "invited";
  }

  answer(p, answer) {
    return answerCosign(p.id, answer);
  }
}

// ---------------------------------------------------------------- view

export async function show(main) {
  if (!["member", "leader"].includes(session()?.person?.role)) {
    mount(main, notAllowed());
    return undefined;
  }
  const model = new MyDraftsModel();
  const open = () => loadPage(main, () => model.load(), () => draw(main, model, open));
  return open();
}

function windowLine(w) {
  if (!w) return h("p", { class: "muted", dataset: { window: "none" } }, t("mdNoWindow"));
  return h("p", { dataset: { window: w.open_now ? "open" : "closed" } }, t("mdWindow", { year: w.year, opens: w.opens, closes: w.closes }), " ", badge(w.open_now ? t("mdWindowOpen") : t("mdWindowClosed"), w.open_now ? "good" : "warn"));
}

function draw(main, model, reload) {
  mount(
    main,
    h("div", { class: "toolbar" }, h("h1", {}, t("myDrafts")), h("a", { class: "button primary", href: "#/my/drafts/new" }, t("myDraftNew"))),
    windowLine(model.window),
    h("section", { class: "card", "aria-labelledby": "md-drafts" }, h("h2", { id: "md-drafts", class: "sr-only" }, t("myDrafts")),
      model.drafts.length ? h("ul", { class: "list drafts" }, model.drafts.map(draftItem)) : h("p", { class: "muted" }, t("mdNone"))),
    h("section", { class: "card", "aria-labelledby": "md-invites" }, h("h2", { id: "md-invites" }, t("mdInvites")),
      model.invites.length ? h("ul", { class: "list invites" }, model.invites.map((p) => inviteItem(model, p, reload))) : h("p", { class: "muted" }, t("mdNoInvites"))),
  );
}

function draftItem(p) {
  return h("li", { dataset: { proposal: p.id } },
    h("a", { href: `#/my/drafts/${p.id}` }, titled(p)), " ", badge(t("status_draft"), "status"),
    h("div", { class: "muted" }, [t("mdUpdated", { date: fmt.date(p.updated_at) }), t("mdSuggestionsN", { n: p.suggestions.length }), t("mdCosignersN", { n: p.cosigners.length })].join(" · ")));
}

function inviteItem(model, p, reload) {
  const answer = model.myAnswer(p);
  const author = p.proposers[0]?.name || "—";
  const act = (value, message) => attempt(async () => { await model.answer(p, value); toast(message); reload(); });
  return h("li", { dataset: { proposal: p.id } },
    h("a", { href: `#/proposals/${p.id}` }, titled(p)), " ", answerBadge(answer),
    h("div", { class: "muted" }, t("mdFrom", { name: author })),
    answer === "invited"
      ? h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", onclick: () => act("accepted", t("mdAccepted")) }, t("mdAccept")),
          h("button", { type: "button", onclick: () => act("declined", t("mdDeclined")) }, t("mdDecline")))
      : null);
}
