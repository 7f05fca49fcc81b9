// 邮件提醒设置: which kinds of notification the signed-in person also gets by email. Every kind
// is shown in the app; this only turns its email off or on.
import { get, patch } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { h, mount, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    nsTitle: "邮件提醒设置", nsIntro: "所有通知都会显示在通知中心；勾选的类别还会发送邮件。",
    nsAddress: "邮件发送至：{address}", nsNoAddress: "您的账户没有登记电子邮箱，暂时收不到邮件提醒。如需登记，请联系提案委员会工作人员。",
    nsKinds: "通知类别", nsByCalendar: "（以日历邀请邮件发送，不能关闭）", nsSave: "保存", nsSaved: "已保存", nsBack: "返回通知",
  },
  en: {
    nsTitle: "Email settings", nsIntro: "Every notification shows in the notification centre; the kinds ticked here are emailed too.",
    nsAddress: "Emails go to: {address}", nsNoAddress: "Your account has no email address, so no emails can reach you. Ask the committee's staff to add one.",
    nsKinds: "Kinds of notification", nsByCalendar: "(sent as a calendar invitation; cannot be turned off)", nsSave: "Save", nsSaved: "Saved", nsBack: "Back to notifications",
  },
});

const URL = "/api/me/notification-settings";

// ---------------------------------------------------------------- model

class SettingsModel {
  constructor() {
    this.items = [];
    this.address = null;
  }

  take(answer) {
    this.items = answer.items;
    this.address = answer.address;
    return this;
  }

  async load() {
    return this.take(await get(URL));
  }

  // Only the kinds whose box differs from what the server has.
  async save(wanted) {
    const items = this.items.filter((i) => i.switchable && wanted[i.kind] !== i.email).map((i) => ({ kind: i.kind, email: wanted[i.kind] }));
    if (items.length) this.take(await patch(URL, { items }));
  }
}

// ---------------------------------------------------------------- view

export async function show(main) {
  const model = new SettingsModel();
  return loadPage(main, () => model.load(), () => draw(main, model));
}

function draw(main, model) {
  const boxes = {};
  const rows = model.items.map((item) => {
    const id = `ns-${item.kind}`;
    boxes[item.kind] = h("input", { type: "checkbox", id, name: item.kind, checked: item.email, disabled: !item.switchable });
    return h("li", {}, h("label", { class: "check", for: id }, boxes[item.kind], " ", item.name), item.switchable ? null : h("small", { class: "muted" }, t("nsByCalendar")));
  });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    {
      class: "card notification-settings",
      onsubmit: async (event) => {
        event.preventDefault();
        error.textContent = "";
        const wanted = Object.fromEntries(Object.entries(boxes).map(([kind, box]) => [kind, box.checked]));
        try {
          await model.save(wanted);
          toast(t("nsSaved"));
          draw(main, model);
        } catch (failure) {
          error.textContent = failure.message;
        }
      },
    },
    h("fieldset", {}, h("legend", {}, t("nsKinds")), h("ul", { class: "plain" }, rows)),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("nsSave")), h("a", { class: "button", href: "#/notifications" }, t("nsBack"))),
  );
  mount(
    main,
    h("h1", {}, t("nsTitle")),
    h("p", { class: "muted" }, t("nsIntro")),
    h("p", { dataset: { address: model.address || "" } }, model.address ? t("nsAddress", { address: model.address }) : t("nsNoAddress")),
    form,
  );
}
