// One session: when, where, who (and their answers), the invitation emails, the join link and
// QR codes, the way into the room and to the minutes.
import { renderSVG } from "/vendor/uqr.mjs";
import { download, get, session as me } from "../api.js";
import { t } from "../i18n.js";
import { badge, empty, fmt, h, mount, section } from "../ui.js";

function qr(url, label) {
  const holder = h("figure", { class: "qr" });
  const svg = new DOMParser().parseFromString(renderSVG(url, { border: 2 }), "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  holder.append(document.importNode(svg, true), h("figcaption", {}, h("a", { href: url }, url)));
  return holder;
}

export async function show(main, where) {
  const person = me().person;
  const staff = person.role === "staff";
  const s = await get(`/api/sessions/${where.id}`);
  const host = staff || s.participants.some((p) => p.person_id === person.id && p.role === "host");
  const deliveries = staff ? await get(`/api/sessions/${s.id}/deliveries`).catch(() => ({ items: [] })) : { items: [] };
  const joinUrl = `${location.origin}/join/${s.id}`;
  const extras = [];
  if (s.visibility === "public") extras.push(section(t("joinLink"), qr(joinUrl, t("joinLink"))));
  if (host && s.status !== "ended" && s.status !== "cancelled" && s.venue_id) {
    const hall = h("div", {}, h("button", { type: "button", onclick: async () => {
      const link = await get(`/api/sessions/${s.id}/checkin-link`);
      mount(hall, qr(link.url, t("checkinQr")), h("p", { class: "muted" }, `${fmt.time(link.expires_at)}`));
    } }, t("checkinQr")));
    extras.push(section(t("checkinQr"), hall));
  }
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, s.title, " ", badge(t(s.status), s.status)),
      h(
        "div",
        { class: "actions" },
        s.status === "scheduled" || s.status === "live" ? h("a", { class: "button primary", href: `#/rooms/${s.id}` }, t("enterRoom")) : null,
        s.status === "ended" ? h("a", { class: "button", href: `#/minutes/${s.id}` }, t("minutes")) : null,
        h("button", { type: "button", onclick: () => download(`/api/sessions/${s.id}/invite.ics`, "invite.ics") }, "iCalendar"),
      ),
    ),
    h(
      "dl",
      { class: "facts card" },
      h("dt", {}, t("kind")), h("dd", {}, `${t(`kind_${s.kind}`)} · ${t(`mode_${s.mode}`)}${s.stage ? ` · ${t(`stage_${s.stage}`)}` : ""}`),
      h("dt", {}, t("date")), h("dd", {}, fmt.span(s.starts_at, s.ends_at)),
      s.topic ? [h("dt", {}, t("topic")), h("dd", {}, s.topic)] : null,
    ),
    h(
      "div",
      { class: "grid" },
      section(
        t("participants"),
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, h("th", {}, t("participants")), h("th", {}, t("role")), h("th", {}, t("attendance")), h("th", {}, t("rsvp")))),
          h("tbody", {}, s.participants.map((p) => h("tr", {}, h("td", {}, p.name), h("td", {}, t(`role_${p.role}`)), h("td", {}, t(p.attendance === "in_person" ? "inPerson" : "remote")), h("td", {}, badge(t(`rsvp_${p.rsvp}`), p.rsvp))))),
        ),
      ),
      staff
        ? section(
            t("deliveries"),
            deliveries.items.length
              ? h("ul", { class: "list" }, deliveries.items.map((d) => h("li", { class: "row" }, h("span", {}, d.recipient, h("small", { class: "muted" }, ` ${d.method}`)), badge(t(`delivery_${d.state}`), d.state))))
              : empty(),
          )
        : null,
      s.agenda.length ? section(t("agenda"), h("ol", {}, s.agenda.map((a) => h("li", {}, a.title)))) : null,
      extras,
    ),
  );
}
