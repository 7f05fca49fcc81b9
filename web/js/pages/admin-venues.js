// Administration of the venues where sessions meet in person: name, address, capacity.
import { get, patch, post } from "../api.js";
import { fieldBox, submitting } from "../form-errors.js";
import { addTexts, t } from "../i18n.js";
import { h, mount, section, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    avNew: "新建会场", avName: "会场名称", avAddress: "地址", avCapacity: "可容纳人数", avList: "会场列表",
    avEditing: "修改：{name}", avCreated: "已创建 {name}", avSeats: "{n} 人",
  },
  en: {
    avNew: "New venue", avName: "Venue name", avAddress: "Address", avCapacity: "Capacity (people)", avList: "Venues",
    avEditing: "Edit: {name}", avCreated: "Created {name}", avSeats: "{n} people",
  },
});

// ---------------------------------------------------------------- model

export async function load() {
  return { venues: (await get("/api/venues")).items };
}

function bodyOf(form) {
  const address = form.elements.address.value.trim();
  const capacity = form.elements.capacity.value.trim();
  return { name: form.elements.name.value.trim(), address: address || null, capacity: capacity === "" ? null : Number(capacity) };
}

// ---------------------------------------------------------------- view

function venueForm(label, venue, send, done, cancel) {
  const form = h(
    "form",
    { novalidate: true, "aria-label": label },
    fieldBox("name", t("avName"), h("input", { name: "name", required: true, maxlength: 200, value: venue?.name || "", autocomplete: "off" })),
    h("div", { class: "cols" },
      fieldBox("address", t("avAddress"), h("input", { name: "address", maxlength: 300, value: venue?.address || "" })),
      fieldBox("capacity", t("avCapacity"), h("input", { name: "capacity", type: "number", min: 1, max: 100000, value: venue?.capacity ?? "" }))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, venue ? t("adSave") : t("adCreate")), cancel),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const saved = await submitting(form, () => send(bodyOf(form)));
    if (saved) done(saved);
  });
  return form;
}

function edit(box, venue, refresh) {
  const cancel = h("button", { type: "button", onclick: () => mount(box) }, t("adCancel"));
  const label = t("avEditing", { name: venue.name });
  const form = venueForm(label, venue, (body) => patch(`/api/venues/${venue.id}`, body), () => { toast(t("adSaved")); refresh(); }, cancel);
  mount(box, h("section", { class: "card" }, h("h2", {}, label), form));
  form.elements.name.focus();
}

// `open`: the id of a venue to edit straight away (the audit log links here).
export function draw(container, data, refresh, open) {
  const box = h("div", {});
  const list = section(
    t("avList"),
    data.venues.length
      ? h("ul", { class: "list" }, data.venues.map((v) =>
          h("li", { class: "row" },
            h("div", {}, h("b", {}, v.name), h("div", { class: "muted" }, [v.address, v.capacity ? t("avSeats", { n: v.capacity }) : null].filter(Boolean).join(" · ") || "—")),
            h("button", { type: "button", class: "small", "aria-label": `${t("adEdit")} ${v.name}`, onclick: () => edit(box, v, refresh) }, t("adEdit")))))
      : h("p", { class: "muted" }, t("none")),
  );
  const create = venueForm(t("avNew"), null, (body) => post("/api/venues", body), (made) => { toast(t("avCreated", { name: made.name })); refresh(); }, null);
  mount(container, box, list, section(t("avNew"), create));
  const venue = data.venues.find((v) => v.id === open);
  if (venue) edit(box, venue, refresh);
}
