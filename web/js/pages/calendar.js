// Week and month views of the sessions one may see, coloured by kind.
import { get, session } from "../api.js";
import { lang, t } from "../i18n.js";
import { KIND_COLORS, ZONE, dayOf, fmt, h, mount } from "../ui.js";

const DAY = 86400_000;

// The same day in a month n months away, or that month's last day (Jan 31 + 1 → Feb 28).
export function shiftMonth(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  const first = new Date(Date.UTC(y, m - 1 + n, 1));
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate();
  return `${first.getUTCFullYear()}-${String(first.getUTCMonth() + 1).padStart(2, "0")}-${String(Math.min(d, last)).padStart(2, "0")}`;
}

function startOfWeek(day) {
  const d = new Date(`${day}T00:00:00+08:00`);
  const weekday = (new Date(d.getTime() + 8 * 3600_000).getUTCDay() + 6) % 7; // Monday = 0
  return new Date(d.getTime() - weekday * DAY);
}

export async function show(main, where) {
  const view = where.query.get("view") === "month" ? "month" : "week";
  const anchor = where.query.get("d") || dayOf(new Date());
  let first;
  let days;
  if (view === "week") {
    first = startOfWeek(anchor);
    days = 7;
  } else {
    const [y, m] = anchor.split("-").map(Number);
    const monthStart = `${y}-${String(m).padStart(2, "0")}-01`;
    first = startOfWeek(monthStart);
    const nextMonth = new Date(Date.UTC(y, m, 1));
    days = Math.ceil((nextMonth.getTime() - 8 * 3600_000 - first.getTime()) / DAY / 7) * 7;
  }
  const last = new Date(first.getTime() + days * DAY);
  const found = await get(`/api/sessions?from=${encodeURIComponent(first.toISOString())}&to=${encodeURIComponent(last.toISOString())}&limit=500`);
  const byDay = new Map();
  for (const s of found.items) {
    const key = dayOf(new Date(s.starts_at));
    if (!byDay.has(key)) byDay.set(key, []);
    byDay.get(key).push(s);
  }
  const shift = (n) => (view === "week" ? dayOf(new Date(new Date(`${anchor}T12:00:00+08:00`).getTime() + n * 7 * DAY)) : shiftMonth(anchor, n));
  const link = (d, v = view) => `#/calendar?view=${v}&d=${d}`;
  const title = new Intl.DateTimeFormat(lang, { timeZone: ZONE, year: "numeric", month: "long" }).format(new Date(`${anchor}T12:00:00+08:00`));
  const weekday = new Intl.DateTimeFormat(lang, { timeZone: ZONE, weekday: "short" });
  const dayNumber = new Intl.DateTimeFormat(lang, { timeZone: ZONE, month: "numeric", day: "numeric" });
  const today = dayOf(new Date());
  const cells = [];
  for (let i = 0; i < days; i++) {
    const date = new Date(first.getTime() + i * DAY + 12 * 3600_000);
    const key = dayOf(date);
    const items = (byDay.get(key) || []).sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    // A list of days, each a heading and its sessions: no grid widget (it would promise arrow-key
    // navigation between cells), so screen readers read it as the list it is.
    cells.push(
      h(
        "li",
        { class: `day${key === today ? " today" : ""}`, "aria-current": key === today ? "date" : null },
        h("h2", { class: "day-head" }, h("time", { datetime: key }, h("span", {}, weekday.format(date)), " ", h("b", {}, dayNumber.format(date)))),
        items.length
          ? h("ul", { class: "events" }, items.map((s) =>
              h("li", {}, h(
                "a",
                { class: `event ${KIND_COLORS[s.kind]}${s.status === "cancelled" ? " cancelled" : ""}`, href: `#/sessions/${s.id}`, title: s.title },
                h("span", { class: "time" }, fmt.time(s.starts_at)),
                " ",
                s.title,
                s.status === "cancelled" ? h("span", { class: "sr-only" }, ` (${t("cancelled")})`) : null,
              )),
            ))
          : null,
      ),
    );
  }
  const staff = session().person.role === "staff";
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, title),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button", href: link(shift(-1)) }, t("prev")),
        h("a", { class: "button", href: link(today) }, t("today")),
        h("a", { class: "button", href: link(shift(1)) }, t("next")),
        h("a", { class: `button${view === "week" ? " active" : ""}`, href: link(anchor, "week") }, t("week")),
        h("a", { class: `button${view === "month" ? " active" : ""}`, href: link(anchor, "month") }, t("month")),
        staff ? h("a", { class: "button primary", href: "#/schedule" }, t("newSession")) : null,
      ),
    ),
    h("div", { class: "legend" }, Object.entries(KIND_COLORS).map(([kind, cls]) => h("span", { class: `event ${cls}` }, t(`kind_${kind}`)))),
    h("ol", { class: `calendar ${view}`, "aria-label": title }, cells),
  );
}
