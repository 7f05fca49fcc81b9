// 通知中心: the signed-in person's notifications, newest first; all or only unread; mark one or
// all read; each opens what it is about. The list refreshes itself when the bell's count
// changes (a push from the server).
import { get, post } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { setUnread } from "../notices.js";
import { loadPage } from "../page.js";
import { attempt, badge, fmt, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    ncTitle: "通知", ncAll: "全部", ncUnread: "未读", ncUnreadCount: "{n} 条未读", ncMarkRead: "标为已读",
    ncMarkAll: "全部标为已读", ncNone: "暂无通知。", ncNoneUnread: "没有未读通知。", ncMore: "加载更多",
    ncSettings: "邮件提醒设置", ncNew: "未读", ncOpen: "查看", ncShow: "显示",
  },
  en: {
    ncTitle: "Notifications", ncAll: "All", ncUnread: "Unread", ncUnreadCount: "{n} unread", ncMarkRead: "Mark read",
    ncMarkAll: "Mark all read", ncNone: "No notifications yet.", ncNoneUnread: "No unread notifications.", ncMore: "Load more",
    ncSettings: "Email settings", ncNew: "Unread", ncOpen: "Open", ncShow: "Show",
  },
});

const PAGE = 30;

// ---------------------------------------------------------------- model

class NotificationsModel {
  constructor(unreadOnly) {
    this.unreadOnly = unreadOnly;
    this.items = [];
    this.unread = 0;
    this.nextBefore = null;
  }

  query(before) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (this.unreadOnly) q.set("unread", "true");
    if (before) q.set("before", String(before));
    return `/api/me/notifications?${q}`;
  }

  async load() {
    const page = await get(this.query(null));
    this.items = page.items;
    this.take(page);
    return this;
  }

  async more() {
    const page = await get(this.query(this.nextBefore));
    this.items = [...this.items, ...page.items];
    this.take(page);
  }

  take(page) {
    this.unread = page.unread;
    this.nextBefore = page.next_before;
    setUnread(page.unread);
  }

  async markRead(ids) {
    const answer = await post("/api/me/notifications/read", { ids });
    for (const item of this.items) if (ids.includes(item.id)) item.read = true;
    this.unread = answer.unread;
    setUnread(answer.unread);
  }

  async markAll() {
    const answer = await post("/api/me/notifications/read", { all: true });
    for (const item of this.items) item.read = true;
    this.unread = answer.unread;
    setUnread(answer.unread);
  }
}

// ---------------------------------------------------------------- view

export async function show(main, where) {
  const model = new NotificationsModel(where.query.get("unread") === "true");
  await loadPage(main, () => model.load(), () => draw(main, model));
  let busy = false;
  const onPush = async (event) => {
    if (busy || event.detail.unread === model.unread) return; // our own change, already drawn
    busy = true;
    try {
      await model.load();
      draw(main, model);
    } catch {
      // keep what is shown; the next push or a reload brings it up to date
    } finally {
      busy = false;
    }
  };
  window.addEventListener("xs:notifications", onPush);
  return () => window.removeEventListener("xs:notifications", onPush);
}

function draw(main, model) {
  const filter = h(
    "div",
    { class: "actions", role: "group", "aria-label": t("ncShow") },
    h("a", { class: "button", href: "#/notifications", "aria-current": model.unreadOnly ? null : "page" }, t("ncAll")),
    h("a", { class: "button", href: "#/notifications?unread=true", "aria-current": model.unreadOnly ? "page" : null }, t("ncUnread")),
  );
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, t("ncTitle"), " ", model.unread ? badge(t("ncUnreadCount", { n: model.unread }), "warn") : null),
      h(
        "div",
        { class: "actions" },
        model.unread ? h("button", { type: "button", onclick: async () => { await attempt(() => model.markAll()); draw(main, model); } }, t("ncMarkAll")) : null,
        h("a", { class: "button", href: "#/notifications/settings" }, t("ncSettings")),
      ),
    ),
    filter,
    h("section", { class: "card" }, model.items.length ? list(main, model) : h("p", { class: "muted", dataset: { state: "empty" } }, t(model.unreadOnly ? "ncNoneUnread" : "ncNone"))),
    model.nextBefore
      ? h("button", { type: "button", onclick: async () => { await attempt(() => model.more()); draw(main, model); } }, t("ncMore"))
      : null,
  );
}

function list(main, model) {
  return h("ul", { class: "notification-list" }, model.items.map((item) => row(main, model, item)));
}

function row(main, model, item) {
  const open = async (event) => {
    if (item.read) return;
    event.preventDefault();
    await attempt(() => model.markRead([item.id]));
    location.hash = item.link;
  };
  return h(
    "li",
    { class: item.read ? "notification-item" : "notification-item unread", dataset: { notice: item.id, kind: item.kind } },
    h(
      "div",
      { class: "notification-text" },
      item.read ? null : badge(t("ncNew"), "warn"),
      " ",
      h("a", { href: item.link, onclick: open }, item.title),
      h("div", {}, h("time", { class: "muted", datetime: item.at }, fmt.dateTime(item.at))),
    ),
    item.read
      ? null
      : h("button", { type: "button", class: "link", onclick: async () => { await attempt(() => model.markRead([item.id])); draw(main, model); } }, t("ncMarkRead")),
  );
}
