// In-person check-in: a participant scans the hall's QR code.
import { post } from "../api.js";
import { t } from "../i18n.js";
import { h, mount } from "../ui.js";

export async function show(main, where) {
  const token = where.query.get("token") || "";
  try {
    await post(`/api/sessions/${where.id}/checkin`, { token });
    mount(main, h("div", { class: "card narrow" }, h("h1", {}, "✓"), h("p", {}, t("checkinDone")), h("a", { class: "button primary", href: `/#/rooms/${where.id}` }, t("enterRoom"))));
  } catch (error) {
    mount(main, h("div", { class: "card narrow" }, h("p", { class: "error" }, error.message)));
  }
}
