// Follow-up (督办): action items of approved minutes, overdue first; units report them done.
import { get, patch, session } from "../api.js";
import { t } from "../i18n.js";
import { attempt, badge, empty, h, mount } from "../ui.js";

export async function show(main) {
  const person = session().person;
  const list = await get("/api/follow-ups?limit=200");
  const canDone = person.role === "unit" || person.role === "staff";
  mount(
    main,
    h("h1", {}, t("followups")),
    list.items.length
      ? h(
          "table",
          { class: "card" },
          h("thead", {}, h("tr", {}, h("th", {}, t("actionItems")), h("th", {}, t("due")), h("th", {}, ""), h("th", {}, ""))),
          h("tbody", {}, list.items.map((f) => h("tr", {}, h("td", {}, f.text), h("td", {}, f.due || "—"), h("td", {}, badge(f.overdue ? t("overdue") : t(f.status === "open" ? "scheduled" : f.status === "done" ? "done" : "cancelled"), f.overdue ? "warn" : f.status)), h("td", {}, canDone && f.status === "open" ? h("button", { type: "button", class: "small", onclick: () => attempt(async () => { await patch(`/api/follow-ups/${f.id}`, { status: "done" }); show(main); }) }, t("markDone")) : null)))),
        )
      : empty(),
  );
}
