// Staff schedule a session: live conflict warnings as they choose time, people and venue,
// and a finder for free times.
import { get, post } from "../api.js";
import { t } from "../i18n.js";
import { dayOf, field, fmt, h, mount, select, shanghai, toast } from "../ui.js";
import { go } from "../app.js";

const KINDS = ["handling", "quarterly_talk", "livelihood_hall", "micro"];
const MODES = ["hybrid", "in_person", "remote"];
const ROLES = ["host", "proposer", "unit", "leader", "member"];

export async function show(main) {
  const [people, venues] = await Promise.all([get("/api/people"), get("/api/venues")]);
  const tomorrow = dayOf(new Date(Date.now() + 86400_000));
  const form = h("form", { class: "card", novalidate: true });
  const kind = select("kind", KINDS.map((k) => [k, t(`kind_${k}`)]), "handling");
  const mode = select("mode", MODES.map((k) => [k, t(`mode_${k}`)]), "hybrid");
  const title = h("input", { name: "title", required: true, maxlength: 200 });
  const day = h("input", { name: "date", type: "date", value: tomorrow, required: true });
  const start = h("input", { name: "start", type: "time", value: "09:30", required: true });
  const end = h("input", { name: "end", type: "time", value: "11:00", required: true });
  const venue = select("venue", [["", "—"], ...venues.items.map((v) => [String(v.id), v.name])], venues.items[0] ? String(venues.items[0].id) : "");
  const visibility = select("visibility", [["private", t("private")], ["public", t("public")]], "private");
  const stage = select("stage", ["before", "during", "after"].map((k) => [k, t(`stage_${k}`)]), "during");
  const stageField = field(t("compliance"), stage);
  kind.addEventListener("change", () => (stageField.hidden = kind.value !== "handling"));
  const chosen = new Map(); // person id -> role
  const warnings = h("div", { class: "warnings", role: "status", "aria-live": "polite" });
  const slotsBox = h("div", { class: "slots" });
  const keep = h("input", { type: "checkbox", name: "allow_conflicts" });
  const peopleList = h(
    "fieldset",
    { class: "people" },
    h("legend", {}, t("participants")),
    people.items
      .filter((p) => p.role !== "guest")
      .map((p) => {
        const box = h("input", { type: "checkbox", value: p.id, id: `p-${p.id}` });
        const role = select(`role-${p.id}`, ROLES.map((r) => [r, t(`role_${r}`)]), p.role === "unit" ? "unit" : p.role === "staff" ? "host" : p.role === "leader" ? "leader" : "member");
        role.setAttribute("aria-label", `${p.name} ${t("role")}`);
        const update = () => {
          if (box.checked) chosen.set(p.id, role.value);
          else chosen.delete(p.id);
          check();
        };
        box.addEventListener("change", update);
        role.addEventListener("change", update);
        return h("div", { class: "person" }, box, h("label", { for: `p-${p.id}` }, p.name), role);
      }),
  );

  const times = () => ({ starts_at: shanghai(day.value, start.value), ends_at: shanghai(day.value, end.value) });
  let pending = 0;
  async function check() {
    const ticket = ++pending;
    if (!day.value || !start.value || !end.value || end.value <= start.value) {
      mount(warnings);
      return;
    }
    try {
      const found = await post("/api/schedule/check", {
        ...times(),
        person_ids: [...chosen.keys()],
        venue_id: venue.value ? Number(venue.value) : null,
      });
      if (ticket !== pending) return;
      mount(
        warnings,
        found.items.length
          ? h(
              "div",
              { class: "alert warn" },
              h("strong", {}, `${t("conflicts")}（${found.items.length}）`),
              h("ul", {}, found.items.map((c) => h("li", {}, `${c.name}：${c.session_title || "忙碌"} ${fmt.dateTime(c.starts_at)}–${fmt.time(c.ends_at)}`))),
              h("label", { class: "check" }, keep, t("keepAnyway")),
            )
          : h("div", { class: "alert good" }, t("noConflicts")),
      );
    } catch (error) {
      mount(warnings, h("div", { class: "alert warn" }, error.message));
    }
  }
  for (const input of [day, start, end, venue]) input.addEventListener("change", check);

  const findSlots = async () => {
    const required = [...chosen.keys()];
    if (!required.length) {
      toast(t("participants"));
      return;
    }
    const minutes = Math.max(15, (Number(end.value.slice(0, 2)) * 60 + Number(end.value.slice(3))) - (Number(start.value.slice(0, 2)) * 60 + Number(start.value.slice(3))));
    const from = new Date(`${day.value}T00:00:00+08:00`);
    try {
      const found = await post("/api/schedule/find-slots", {
        required_ids: required,
        venue_id: venue.value ? Number(venue.value) : null,
        duration_minutes: minutes,
        window_start: from.toISOString(),
        window_end: new Date(from.getTime() + 14 * 86400_000).toISOString(),
        limit: 6,
      });
      mount(
        slotsBox,
        h("h3", {}, t("slots")),
        h("div", { class: "actions" }, found.items.map((slot) =>
          h("button", { type: "button", class: "small", onclick: () => {
            day.value = dayOf(new Date(slot.starts_at));
            start.value = fmt.time(slot.starts_at);
            end.value = fmt.time(slot.ends_at);
            check();
          } }, fmt.dateTime(slot.starts_at)),
        )),
      );
    } catch (error) {
      toast(error.message);
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      kind: kind.value,
      mode: mode.value,
      title: title.value.trim(),
      ...times(),
      timezone: "Asia/Shanghai",
      venue_id: venue.value ? Number(venue.value) : null,
      visibility: visibility.value,
      stage: kind.value === "handling" ? stage.value : null,
      participants: [...chosen].map(([person_id, role]) => ({ person_id, role })),
      allow_conflicts: keep.checked,
    };
    try {
      const created = await post("/api/sessions", body);
      toast(t("create"));
      go(`#/sessions/${created.id}`);
    } catch (error) {
      toast(error.message);
      check();
    }
  });

  mount(
    form,
    h("h1", {}, t("newSession")),
    h("div", { class: "cols" }, field(t("kind"), kind), stageField, field(t("mode"), mode), field(t("visibility"), visibility)),
    field(t("title"), title),
    h("div", { class: "cols" }, field(t("date"), day), field(t("start"), start), field(t("end"), end), field(t("venue"), venue)),
    peopleList,
    warnings,
    h("div", { class: "actions" }, h("button", { type: "button", onclick: findSlots }, t("findSlots")), h("button", { type: "submit", class: "primary" }, t("create"))),
    slotsBox,
  );
  mount(main, form);
  title.focus();
  check();
}
