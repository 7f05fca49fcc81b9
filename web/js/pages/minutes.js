// Minutes after the session: edit the draft, send it for review, approve, correct; versions,
// the chain check, and exports.
import { download, get, post, put, session } from "../api.js";
import { t } from "../i18n.js";
import { attempt, badge, fmt, h, mount, toast } from "../ui.js";

export async function show(main, where) {
  const sid = where.id;
  const staff = session().person.role === "staff";
  const reader = staff || session().person.role === "leader";
  const m = await get(`/api/sessions/${sid}/minutes`);
  const versions = await get(`/api/sessions/${sid}/minutes/versions`);
  const c = structuredClone(m.content);
  const editable = staff && m.status === "draft";
  const correcting = staff && m.status === "approved";

  const summary = h("textarea", { rows: 3, "aria-label": t("summary"), disabled: !(editable || correcting) }, c.summary || "");
  const items = c.items.map((item, i) => {
    const notes = h("textarea", { rows: 4, "aria-label": `${item.title} ${t("notes")}`, disabled: !(editable || correcting) }, item.notes);
    const decisions = h("textarea", { rows: 2, "aria-label": `${item.title} ${t("decisions")}`, disabled: !(editable || correcting) }, item.decisions.join("\n"));
    return {
      read: () => {
        c.items[i].notes = notes.value;
        c.items[i].decisions = decisions.value.split("\n").map((x) => x.trim()).filter(Boolean);
      },
      view: h(
        "section",
        { class: "card" },
        h("h2", {}, `${i + 1}. ${item.title}`),
        item.speakers.length ? h("p", { class: "muted" }, `${t("speakers")}：${item.speakers.join("、")}`) : null,
        h("label", {}, t("notes")),
        notes,
        h("label", {}, t("decisions")),
        decisions,
        item.actions.length
          ? [h("h3", {}, t("actionItems")), h("ul", {}, item.actions.map((a) => h("li", {}, a.text, h("small", { class: "muted" }, ` ${a.owner_unit || ""} ${a.due ? `${t("due")} ${a.due}` : ""}`))))]
          : null,
      ),
    };
  });
  const collect = () => {
    c.summary = summary.value;
    for (const item of items) item.read();
    return c;
  };
  const reload = () => show(main, where);
  const move = (to) => attempt(async () => { await post(`/api/sessions/${sid}/minutes/transitions`, { to, base_version: m.version }); toast(t(to)); reload(); });
  const reason = h("input", { "aria-label": t("reason"), placeholder: t("reason"), maxlength: 500 });
  const chain = h("span", { role: "status" });

  const list = (title, people) => h("p", {}, h("b", {}, `${title}：`), people.length ? people.map((p) => p.name).join("、") : t("none"));
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, `${c.title} · ${t("minutes")} `, badge(t(m.status), m.status), h("small", { class: "muted" }, ` v${m.version}`)),
      h(
        "div",
        { class: "actions" },
        ["docx", "md", "html"].map((ext) => h("button", { type: "button", onclick: () => attempt(() => download(`/api/sessions/${sid}/minutes.${ext}?version=${m.version}`, `minutes.${ext}`)) }, `${t("export")} .${ext}`)),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("p", {}, h("b", {}, "时间："), fmt.span(c.starts_at, c.ends_at), c.place ? ` · ${c.place}` : ""),
      h("p", {}, h("b", {}, `${t("role_host")}：`), c.hosts.join("、") || t("none")),
      list("出席", c.present),
      list("列席", c.attending),
      list("缺席", c.absent),
      h("label", {}, t("summary")),
      summary,
    ),
    items.map((i) => i.view),
    h(
      "div",
      { class: "actions sticky" },
      editable ? h("button", { type: "button", onclick: () => attempt(async () => { await put(`/api/sessions/${sid}/minutes`, { base_version: m.version, content: collect() }); toast(t("save")); reload(); }) }, t("save")) : null,
      staff && m.status === "draft" ? h("button", { type: "button", class: "primary", onclick: () => move("in_review") }, t("submitReview")) : null,
      staff && m.status === "in_review" ? [h("button", { type: "button", onclick: () => move("draft") }, t("backToDraft")), h("button", { type: "button", class: "primary", onclick: () => move("approved") }, t("approve"))] : null,
      correcting ? [reason, h("button", { type: "button", onclick: () => attempt(async () => { await post(`/api/sessions/${sid}/minutes/corrections`, { base_version: m.version, content: collect(), reason: reason.value || "更正" }); reload(); }) }, t("correction"))] : null,
      reader ? h("button", { type: "button", onclick: () => attempt(async () => { const r = await get(`/api/sessions/${sid}/minutes/verify`); chain.textContent = r.ok ? t("chainOk") : t("chainBroken", { what: r.problems.map((p) => `v${p.version} ${p.problem}`).join(", ") }); }) }, t("verify")) : null,
      chain,
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, t("versions")),
      h("ol", { class: "list" }, versions.items.map((v) => h("li", { class: "row" }, h("span", {}, `v${v.version} · ${t(v.status)} · ${v.author || "—"} · ${fmt.dateTime(v.created_at)}`, v.note ? h("small", { class: "muted" }, ` ${v.note}`) : null), h("code", { title: v.hash }, v.hash.slice(0, 12))))),
    ),
  );
}
