// 我的日历: one's subscription link (copy, webcal://, rotate) and an upload of one's own busy
// time (an .ics export from another calendar), which the slot finder then avoids.
import { ApiError, get, post, session as me } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { dayOf, field, h, mount, section, shanghai, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    myCalendar: "我的日历", feedTitle: "订阅我的协商日程", feedHint: "在 Outlook、苹果日历、Google 日历或 Thunderbird 中订阅此链接，您参加的协商会自动出现并随时更新。",
    feedLink: "订阅链接", copyLink: "复制链接", copied: "已复制", openWebcal: "用日历应用订阅（webcal://）",
    rotate: "更换链接", rotateConfirm: "旧链接将立即失效，已订阅的日历需要改用新链接。继续吗？", rotated: "已生成新链接，旧链接已失效。",
    busyTitle: "上传我的忙碌时间", busyHint: "从其他日历导出 .ics 文件上传；在所选时间段内，它替换您之前上传的忙碌时间。安排协商时会避开这些时间。",
    busyFile: "日历文件（.ics）", busyFrom: "自", busyTo: "至", upload: "上传", uploaded: "已保存 {n} 段忙碌时间。", chooseFile: "请先选择 .ics 文件。",
  },
  en: {
    myCalendar: "My calendar", feedTitle: "Subscribe to my sessions", feedHint: "Subscribe to this link in Outlook, Apple Calendar, Google Calendar or Thunderbird: the sessions you take part in appear and stay up to date.",
    feedLink: "Subscription link", copyLink: "Copy link", copied: "Copied", openWebcal: "Subscribe in a calendar app (webcal://)",
    rotate: "New link", rotateConfirm: "The old link stops working at once; calendars subscribed to it must use the new one. Go on?", rotated: "A new link is ready; the old one no longer works.",
    busyTitle: "Upload my busy time", busyHint: "Upload an .ics export from another calendar; within the chosen dates it replaces what you uploaded before. Scheduling avoids these times.",
    busyFile: "Calendar file (.ics)", busyFrom: "From", busyTo: "To", upload: "Upload", uploaded: "{n} busy blocks saved.", chooseFile: "Choose an .ics file first.",
  },
});

// The model: the feed link and the upload, over the API.
const model = {
  feed: () => get("/api/me/calendar"),
  rotate: () => post("/api/me/calendar/rotate"),
  async upload(file, from, to) {
    const query = new URLSearchParams({ from: shanghai(from, "00:00"), to: shanghai(to, "23:59") });
    const response = await fetch(`/api/people/${me().person.id}/busy?${query}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${me().token}`, "Content-Type": "text/calendar" },
      body: await file.text(),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  },
};

export async function show(main) {
  await loadPage(main, model.feed, (feed) => draw(main, feed));
}

function feedPart(feed) {
  const holder = h("div");
  const render = (current) => {
    const url = h("input", { readonly: true, value: current.feed_url, class: "feed-url" });
    mount(
      holder,
      field(t("feedLink"), url),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "primary", onclick: async () => {
          url.select();
          try {
            await navigator.clipboard.writeText(current.feed_url);
          } catch {
            document.execCommand?.("copy");
          }
          toast(t("copied"));
        } }, t("copyLink")),
        h("a", { class: "button", href: current.webcal_url }, t("openWebcal")),
        h("button", { type: "button", onclick: async () => {
          if (!window.confirm(t("rotateConfirm"))) return;
          try {
            render(await model.rotate());
            toast(t("rotated"));
          } catch (error) {
            toast(error.message);
          }
        } }, t("rotate")),
      ),
    );
  };
  render(feed);
  return holder;
}

function busyPart() {
  const today = dayOf(new Date());
  const file = h("input", { type: "file", accept: ".ics,text/calendar" });
  const from = h("input", { type: "date", value: today, required: true });
  const to = h("input", { type: "date", value: dayOf(new Date(Date.now() + 90 * 86400_000)), required: true });
  const result = h("p", { role: "status" });
  return h(
    "form",
    { onsubmit: async (event) => {
      event.preventDefault();
      if (!file.files.length) {
        result.textContent = t("chooseFile");
        return;
      }
      try {
        const done = await model.upload(file.files[0], from.value, to.value);
        result.textContent = t("uploaded", { n: done.blocks });
      } catch (error) {
        result.textContent = error.message;
      }
    } },
    h("p", { class: "muted" }, t("busyHint")),
    field(t("busyFile"), file),
    h("div", { class: "cols" }, field(t("busyFrom"), from), field(t("busyTo"), to)),
    h("button", { type: "submit", class: "primary" }, t("upload")),
    result,
  );
}

function draw(main, feed) {
  mount(
    main,
    h("h1", {}, t("myCalendar")),
    h("div", { class: "grid" }, section(t("feedTitle"), h("p", { class: "muted" }, t("feedHint")), feedPart(feed)), section(t("busyTitle"), busyPart())),
  );
}
