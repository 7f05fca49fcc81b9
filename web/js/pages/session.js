// One session: when, where, who (and their answers), linked proposals, the invitation emails,
// the join and check-in QR codes, the hall-device pass; staff edit, reschedule and cancel (the
// series, one occurrence, or this and following, saying first which invitations go out), add
// and remove participants, and answer counter-proposals; every invitee can propose another time.
import { renderSVG } from "/vendor/uqr.mjs";
import { download, get, patch, post, session as me } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { dayOf, empty, field, fmt, h, mount, section, select, shanghai, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    edit: "修改", reschedule: "改期", cancelSession: "取消协商", linkedProposals: "关联提案",
    occurrences: "各次会议", occ_scheduled: "如期", occ_moved: "已改期", occ_cancelled: "已取消",
    scope: "适用范围", scopeSeries: "整个系列", scopeOne: "仅这一次", scopeFollowing: "这一次及以后",
    occurrence: "哪一次", newDate: "新日期", cancelReason: "取消原因", confirmSend: "确认并发送",
    close: "关闭", willSend: "将发送：", sendUpdateTo: "更新邀请 → {names}", sendCancelTo: "取消通知 → {names}",
    sendNewTo: "新邀请 → {names}", addPerson: "添加参加人员", person: "人员", remove: "移除",
    hallDevice: "会场设备通行证", openHallDisplay: "在本机打开会议大屏", issuePass: "生成会场设备二维码",
    passFor: "{venue} 的设备扫码接入，有效至 {until}", counters: "其他时间提议", counterBy: "{name} 提议 {when}",
    acceptCounter: "接受", declineCounter: "谢绝", counter_open: "待处理", counter_accepted: "已接受",
    counter_declined: "已谢绝", proposeTime: "提议其他时间", comment: "说明", sendProposal: "发送提议",
    proposalSent: "已发送给工作人员。", done: "已完成", cancelledBy: "取消原因：{reason}",
    noOccurrence: "请选择哪一次。",
    nowConflicts: "当前时间冲突", noClash: "目前没有时间冲突。", clashWith: "{name}：与「{title}」冲突（{when}）",
    clashBusy: "{name}：本人日历中此时忙碌（{when}）", recordings: "录像", recordingOf: "{name} · {source} · {minutes} 分钟",
    source_camera: "摄像头", source_screen: "屏幕共享", source_audio: "音频", downloadRecording: "下载",
    composite: "合成录像", compositeOf: "合成录像（发言人大画面、屏幕共享、其他人小画面，混合音频） · {minutes} 分钟",
    composite_pending: "排队等待合成", composite_running: "正在合成…", composite_done: "已合成", composite_failed: "合成失败",
    compositeWhy_timeout: "超过了合成时限", compositeWhy_no_media: "没有可用的分路录像文件", compositeWhy_abandoned: "多次中断后放弃",
    compositeWhy_error: "编码出错：{detail}", recordingsLoading: "正在加载录像…", noRecordings: "本场会议没有录像。",
    recordingsFailed: "录像列表加载失败：{detail}", refresh: "刷新",
  },
  en: {
    edit: "Edit", reschedule: "Reschedule", cancelSession: "Cancel session", linkedProposals: "Linked proposals",
    occurrences: "Occurrences", occ_scheduled: "as planned", occ_moved: "moved", occ_cancelled: "cancelled",
    scope: "Applies to", scopeSeries: "The whole series", scopeOne: "This occurrence only", scopeFollowing: "This and following",
    occurrence: "Which occurrence", newDate: "New date", cancelReason: "Reason for cancelling", confirmSend: "Confirm and send",
    close: "Close", willSend: "This sends:", sendUpdateTo: "updated invitations → {names}", sendCancelTo: "cancellations → {names}",
    sendNewTo: "new invitations → {names}", addPerson: "Add a participant", person: "Person", remove: "Remove",
    hallDevice: "Hall device pass", openHallDisplay: "Open the hall display on this device", issuePass: "Issue the hall device QR code",
    passFor: "Scan with the device of {venue}; valid until {until}", counters: "Other times proposed", counterBy: "{name} proposes {when}",
    acceptCounter: "Accept", declineCounter: "Decline", counter_open: "open", counter_accepted: "accepted",
    counter_declined: "declined", proposeTime: "Propose another time", comment: "Comment", sendProposal: "Send proposal",
    proposalSent: "Sent to the staff.", done: "Done", cancelledBy: "Cancelled: {reason}",
    noOccurrence: "Choose which occurrence.",
    nowConflicts: "Conflicts now", noClash: "No conflicts at the moment.", clashWith: "{name}: clashes with “{title}” ({when})",
    clashBusy: "{name}: busy in their own calendar ({when})", recordings: "Recordings", recordingOf: "{name} · {source} · {minutes} min",
    source_camera: "camera", source_screen: "screen share", source_audio: "audio", downloadRecording: "Download",
    composite: "Composite recording", compositeOf: "Composite recording (speaker large, screen share, others small, mixed sound) · {minutes} min",
    composite_pending: "Waiting to be made", composite_running: "Being made…", composite_done: "Made", composite_failed: "Could not be made",
    compositeWhy_timeout: "it took longer than allowed", compositeWhy_no_media: "no feed files to make it from", compositeWhy_abandoned: "given up after repeated interruptions",
    compositeWhy_error: "encoding failed: {detail}", recordingsLoading: "Loading the recordings…", noRecordings: "This session has no recordings.",
    recordingsFailed: "Could not load the recordings: {detail}", refresh: "Refresh",
  },
});

// ------------------------------------------------------------------ model: state and API calls

async function load(id) {
  const person = me().person;
  const staff = person.role === "staff";
  const s = await get(`/api/sessions/${id}`);
  const optional = (path, fallback) => get(path).catch(() => fallback);
  const reader = staff || person.role === "leader";
  const [deliveries, occurrences, counters, venues, people, proposals, conflicts] = await Promise.all([
    staff ? optional(`/api/sessions/${id}/deliveries`, { items: [] }) : { items: [] },
    s.recurrence ? optional(`/api/sessions/${id}/occurrences`, { items: [] }) : { items: [] },
    staff ? optional(`/api/sessions/${id}/counters`, { items: [] }) : { items: [] },
    optional("/api/venues", { items: [] }),
    staff ? optional("/api/people", { items: [] }) : { items: [] },
    Promise.all(s.proposal_ids.map((pid) => optional(`/api/proposals/${pid}`, { id: pid, number: `#${pid}`, title: "" }))),
    staff && s.status === "scheduled" ? optional(`/api/sessions/${id}/conflicts`, { items: [] }) : { items: [] },
  ]);
  const host = staff || s.participants.some((p) => p.person_id === person.id && p.role === "host");
  const invitee = s.participants.some((p) => p.person_id === person.id);
  const open = s.status === "scheduled" || s.status === "live";
  return { s, person, staff, host, invitee, open, deliveries: deliveries.items, occurrences: occurrences.items, counters: counters.items, venue: venues.items.find((v) => v.id === s.venue_id), people: people.items, proposals, conflicts: conflicts.items, reader };
}

const nameOf = (m, id) => m.s.participants.find((p) => p.person_id === id)?.name || m.people.find((p) => p.id === id)?.name || `#${id}`;
const names = (m, ids) => ids.map((id) => nameOf(m, id)).join("、");
const everyone = (m) => m.s.participants.map((p) => p.person_id);
const participantsBody = (list) => list.map((p) => ({ person_id: p.person_id, role: p.role, attendance: p.attendance }));

// What a change sends, and the request that makes it.
// (Cancelling "this and following" ends the series before it: an updated invitation.)
function changePlan(m, change) {
  const cancels = change.action === "cancel" && change.scope !== "following";
  return { sends: [[cancels ? "sendCancelTo" : "sendUpdateTo", everyone(m)]] };
}

function untilBefore(m, occurrence) {
  const cut = new Date(new Date(occurrence).getTime() - 1000).toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const rule = m.s.recurrence.rrule.replace(/;?(COUNT|UNTIL)=[^;]*/g, "");
  return { rrule: `${rule};UNTIL=${cut}`, rdates: m.s.recurrence.rdates.filter((d) => d < occurrence) };
}

async function sendChange(m, change) {
  const id = m.s.id;
  const occurrence = change.scope === "series" ? undefined : change.occurrence;
  if (change.action === "cancel") {
    if (change.scope === "following") return patch(`/api/sessions/${id}`, { recurrence: untilBefore(m, occurrence) });
    return post(`/api/sessions/${id}/cancel`, { reason: change.reason, occurrence });
  }
  return post(`/api/sessions/${id}/reschedule`, {
    starts_at: shanghai(change.day, change.start),
    ends_at: shanghai(change.day, change.end),
    occurrence,
    following: change.scope === "following",
    allow_conflicts: change.allowConflicts,
  });
}

// ------------------------------------------------------------------ view

function qr(text, label, caption) {
  const holder = h("figure", { class: "qr" });
  const svg = new DOMParser().parseFromString(renderSVG(text, { border: 2 }), "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  holder.append(document.importNode(svg, true), h("figcaption", {}, caption ?? h("a", { href: text }, text)));
  return holder;
}

function sendsList(m, sends) {
  return h("div", { class: "alert info", role: "status" }, h("strong", {}, t("willSend")), h("ul", {}, sends.filter(([, ids]) => ids.length).map(([key, ids]) => h("li", {}, t(key, { names: names(m, ids) })))));
}

// A modal that states what will be sent before it is sent.
function confirmDialog(title, body, sends, onConfirm) {
  const dialog = h("dialog", { class: "confirm", "aria-label": title });
  const problem = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    { method: "dialog", onsubmit: async (event) => {
      event.preventDefault();
      problem.textContent = "";
      try {
        await onConfirm();
        dialog.close();
      } catch (error) {
        problem.textContent = error.message;
      }
    } },
    h("h2", {}, title),
    body,
    sends,
    problem,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, t("confirmSend")), h("button", { type: "button", onclick: () => dialog.close() }, t("close"))),
  );
  dialog.addEventListener("close", () => dialog.remove()); // also when Esc closes it
  dialog.append(form);
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

function changeDialog(m, action, preset, reload) {
  const series = Boolean(m.s.recurrence);
  const change = { action, scope: preset?.scope || (series ? "one" : "series"), occurrence: preset?.occurrence || null, day: dayOf(new Date(preset?.start || m.s.starts_at)), start: fmt.time(preset?.start || m.s.starts_at), end: fmt.time(preset?.end || m.s.ends_at), reason: "", allowConflicts: false };
  const sends = h("div");
  const redraw = () => mount(sends, sendsList(m, changePlan(m, change).sends));
  const parts = [];
  if (series) {
    const scope = select("scope", [["series", t("scopeSeries")], ["one", t("scopeOne")], ["following", t("scopeFollowing")]], change.scope);
    scope.addEventListener("change", () => { change.scope = scope.value; redraw(); });
    const which = select("occurrence", [["", "—"], ...m.occurrences.filter((o) => o.status !== "cancelled").map((o) => [o.original_start, fmt.span(o.start, o.end)])], change.occurrence || "");
    which.addEventListener("change", () => {
      change.occurrence = which.value || null;
      const found = m.occurrences.find((o) => o.original_start === which.value);
      if (found && action === "reschedule") {
        Object.assign(change, { day: dayOf(new Date(found.start)), start: fmt.time(found.start), end: fmt.time(found.end) });
        day.value = change.day;
        start.value = change.start;
        end.value = change.end;
      }
    });
    parts.push(h("div", { class: "cols" }, field(t("scope"), scope), field(t("occurrence"), which)));
  }
  const day = h("input", { type: "date", value: change.day, oninput: () => (change.day = day.value) });
  const start = h("input", { type: "time", value: change.start, oninput: () => (change.start = start.value) });
  const end = h("input", { type: "time", value: change.end, oninput: () => (change.end = end.value) });
  if (action === "reschedule") {
    const keep = h("input", { type: "checkbox", onchange: () => (change.allowConflicts = keep.checked) });
    parts.push(h("div", { class: "cols" }, field(t("newDate"), day), field(t("start"), start), field(t("end"), end)), h("label", { class: "check" }, keep, t("keepAnyway")));
  } else {
    const reason = h("input", { required: true, maxlength: 500, oninput: () => (change.reason = reason.value) });
    parts.push(field(t("cancelReason"), reason));
  }
  redraw();
  confirmDialog(action === "cancel" ? t("cancelSession") : t("reschedule"), parts, sends, async () => {
    if (change.scope !== "series" && !change.occurrence) throw new Error(t("noOccurrence"));
    const result = await sendChange(m, change);
    toast(t("done"));
    // "This and following" makes a new series from that occurrence on: show it.
    if (result?.id && result.id !== m.s.id) location.hash = `#/sessions/${result.id}`;
    else reload();
  });
}

function participantsPart(m, reload) {
  const s = m.s;
  const change = (list, sends) =>
    confirmDialog(t("participants"), null, sendsList(m, sends), async () => {
      // A presenter who leaves no longer presents their agenda item.
      const staying = new Set(list.map((p) => p.person_id));
      const agenda = s.agenda.map(({ title, proposal_id, presenter_id, planned_minutes }) => ({ title, proposal_id, presenter_id: staying.has(presenter_id) ? presenter_id : null, planned_minutes }));
      const presenterLeaves = s.agenda.some((a) => a.presenter_id && !staying.has(a.presenter_id));
      await patch(`/api/sessions/${s.id}`, { participants: participantsBody(list), agenda: presenterLeaves ? agenda : undefined });
      toast(t("done"));
      reload();
    });
  const others = everyone(m);
  const rows = s.participants.map((p) =>
    h(
      "tr",
      {},
      h("td", { id: `who-${p.person_id}` }, p.name),
      h("td", {}, t(`role_${p.role}`)),
      h("td", {}, t(p.attendance === "in_person" ? "inPerson" : "remote")),
      h("td", {}, h("span", { class: `badge ${p.rsvp}` }, t(`rsvp_${p.rsvp}`))),
      m.staff && m.open
        ? h("td", {}, h("button", { type: "button", class: "small", "aria-describedby": `who-${p.person_id}`, onclick: () => change(s.participants.filter((x) => x !== p), [["sendCancelTo", [p.person_id]], ["sendUpdateTo", others.filter((id) => id !== p.person_id)]]) }, t("remove")))
        : null,
    ),
  );
  const table = h(
    "table",
    {},
    h("thead", {}, h("tr", {}, h("th", {}, t("participants")), h("th", {}, t("role")), h("th", {}, t("attendance")), h("th", {}, t("rsvp")), m.staff && m.open ? h("th", {}, h("span", { class: "sr-only" }, t("remove"))) : null)),
    h("tbody", {}, rows),
  );
  if (!(m.staff && m.open)) return section(t("participants"), table);
  const candidates = m.people.filter((p) => p.role !== "guest" && !others.includes(p.id));
  const who = select("person", candidates.map((p) => [String(p.id), p.name]), "");
  who.setAttribute("aria-label", t("person"));
  const role = select("role", ["member", "proposer", "unit", "leader", "host"].map((r) => [r, t(`role_${r}`)]), "member");
  role.setAttribute("aria-label", t("role"));
  const add = h("form", { class: "actions", onsubmit: (event) => {
    event.preventDefault();
    if (!who.value) return;
    const id = Number(who.value);
    change([...s.participants, { person_id: id, role: role.value, attendance: null }], [["sendNewTo", [id]], ["sendUpdateTo", others]]);
  } }, who, role, h("button", { type: "submit", class: "small" }, t("addPerson")));
  return section(t("participants"), table, candidates.length ? add : null);
}

function occurrencesPart(m, reload) {
  if (!m.s.recurrence) return null;
  return section(
    t("occurrences"),
    h("ol", { class: "list occurrences" }, m.occurrences.map((o) => h(
      "li",
      { class: o.status },
      h("time", { datetime: o.start }, fmt.span(o.start, o.end)),
      h("span", { class: `badge ${o.status}` }, t(`occ_${o.status}`)),
      m.staff && m.open && o.status !== "cancelled"
        ? [
            h("button", { type: "button", class: "small", "aria-label": `${t("reschedule")} ${fmt.date(o.start)}`, onclick: () => changeDialog(m, "reschedule", { scope: "one", occurrence: o.original_start, start: o.start, end: o.end }, reload) }, t("reschedule")),
            h("button", { type: "button", class: "small", "aria-label": `${t("cancelSession")} ${fmt.date(o.start)}`, onclick: () => changeDialog(m, "cancel", { scope: "one", occurrence: o.original_start, start: o.start, end: o.end }, reload) }, t("cancelSession")),
          ]
        : null,
    ))),
  );
}

function countersPart(m, reload) {
  if (!m.staff || !m.counters.length) return null;
  return section(t("counters"), h("ul", { class: "list" }, m.counters.map((c) => h(
    "li",
    { class: "row" },
    h("span", {}, t("counterBy", { name: nameOf(m, c.person_id), when: fmt.span(c.starts_at, c.ends_at) }), c.comment ? h("small", { class: "muted" }, ` ${c.comment}`) : null),
    c.state === "open" && m.open
      ? h("span", { class: "actions" },
          h("button", { type: "button", class: "small primary", onclick: () => confirmDialog(t("acceptCounter"), null, sendsList(m, [["sendUpdateTo", everyone(m)]]), async () => { await post(`/api/sessions/${m.s.id}/counters/${c.id}/accept`, { allow_conflicts: false }); reload(); }) }, t("acceptCounter")),
          h("button", { type: "button", class: "small", onclick: () => confirmDialog(t("declineCounter"), null, null, async () => { await post(`/api/sessions/${m.s.id}/counters/${c.id}/decline`, {}); reload(); }) }, t("declineCounter")))
      : h("span", { class: `badge ${c.state}` }, t(`counter_${c.state}`)),
  ))));
}

function counterForm(m) {
  if (!m.invitee || m.staff || !m.open) return null;
  const day = h("input", { type: "date", value: dayOf(new Date(m.s.starts_at)), required: true });
  const start = h("input", { type: "time", value: fmt.time(m.s.starts_at), required: true });
  const end = h("input", { type: "time", value: fmt.time(m.s.ends_at), required: true });
  const comment = h("input", { maxlength: 1000 });
  const which = m.s.recurrence ? select("occurrence", [["", t("scopeSeries")], ...m.occurrences.filter((o) => o.status !== "cancelled").map((o) => [o.original_start, fmt.span(o.start, o.end)])], "") : null;
  const result = h("p", { role: "status" });
  return section(t("proposeTime"), h("form", { onsubmit: async (event) => {
    event.preventDefault();
    try {
      await post(`/api/sessions/${m.s.id}/counters`, { starts_at: shanghai(day.value, start.value), ends_at: shanghai(day.value, end.value), occurrence: which?.value || null, comment: comment.value || null });
      result.textContent = t("proposalSent");
    } catch (error) {
      result.textContent = error.message;
    }
  } }, which ? field(t("occurrence"), which) : null, h("div", { class: "cols" }, field(t("date"), day), field(t("start"), start), field(t("end"), end)), field(t("comment"), comment), h("button", { type: "submit" }, t("sendProposal")), result));
}

function hallPart(m) {
  if (!m.host || !m.open || !m.s.venue_id) return null;
  const checkin = h("div", {}, h("button", { type: "button", onclick: async () => {
    const link = await get(`/api/sessions/${m.s.id}/checkin-link`);
    mount(checkin, qr(link.url, t("checkinQr")), h("p", { class: "muted" }, `${fmt.time(link.expires_at)}`));
  } }, t("checkinQr")));
  const device = h("div", {}, h("button", { type: "button", onclick: async () => {
    try {
      const pass = await post(`/api/sessions/${m.s.id}/hall-device`);
      const payload = JSON.stringify({ session_id: pass.session_id, device_token: pass.device_token });
      const display = `/hall/${pass.session_id}#pass=${encodeURIComponent(pass.device_token)}`;
      mount(device, qr(payload, t("hallDevice"), t("passFor", { venue: pass.venue_name, until: `${fmt.date(pass.expires_at)} ${fmt.time(pass.expires_at)}` })), h("p", {}, h("a", { class: "button", href: display, target: "_blank", rel: "noopener" }, t("openHallDisplay"))));
    } catch (error) {
      toast(error.message);
    }
  } }, t("issuePass")));
  return [section(t("checkinQr"), checkin), section(t("hallDevice"), device)];
}

// Staff see who is double-booked now (people may have accepted other sessions since).
function conflictsPart(m) {
  if (!(m.staff && m.s.status === "scheduled")) return null;
  const line = (c) => {
    const when = fmt.span(c.starts_at, c.ends_at);
    return h("li", {}, c.session_id
      ? h("a", { href: `#/sessions/${c.session_id}` }, t("clashWith", { name: c.name, title: c.session_title, when }))
      : t("clashBusy", { name: c.name, when }));
  };
  return section(t("nowConflicts"), m.conflicts.length
    ? h("ul", { class: "list warn-list" }, m.conflicts.map(line))
    : h("p", { class: "muted" }, t("noClash")));
}

// Recordings of a held session: staff and leaders see the list, staff download. The list loads
// by itself (loading, empty and failed states) and follows the composite while it is being made.
const minutes = (ms) => Math.max(1, Math.round(ms / 60000));
const BADGE = { pending: "pending", running: "scheduled", failed: "failed" };

function compositeWhy(reason) {
  if (!reason) return "";
  const [code, ...rest] = reason.split(": ");
  return t(`compositeWhy_${code}`, { detail: rest.join(": ") });
}

function recordingRow(m, r) {
  const composite = r.kind === "composite";
  const ready = r.status === "done";
  const label = composite
    ? ready ? t("compositeOf", { minutes: minutes(r.duration_ms) }) : t("composite")
    : t("recordingOf", { name: r.name, source: t(`source_${r.source}`), minutes: minutes(r.duration_ms) });
  const suffix = composite ? "mp4" : "webm";
  return h("li", { class: "row" },
    h("span", {}, label,
      composite && !ready ? [" ", h("span", { class: `badge ${BADGE[r.status]}` }, t(`composite_${r.status}`))] : null,
      r.status === "failed" ? h("small", { class: "muted" }, ` ${compositeWhy(r.reason)}`) : null),
    m.staff && ready ? h("button", { type: "button", "aria-label": `${t("downloadRecording")} ${composite ? t("composite") : r.name}`, onclick: () => download(`/api/recordings/${r.id}`, `recording-${r.id}.${suffix}`).catch((e) => toast(e.message)) }, t("downloadRecording")) : null);
}

function recordingsPart(m) {
  if (!m.reader) return null;
  const box = h("div", { "aria-live": "polite" }, h("p", { class: "muted", role: "status" }, t("recordingsLoading")));
  let timer = null;
  const fill = async () => {
    clearTimeout(timer);
    try {
      const { items } = await get(`/api/sessions/${m.s.id}/recordings`);
      mount(box, items.length ? h("ul", { class: "list" }, items.map((r) => recordingRow(m, r))) : h("p", { class: "muted" }, t("noRecordings")));
      if (items.some((r) => r.status === "pending" || r.status === "running")) timer = setTimeout(() => box.isConnected && fill(), 10000);
    } catch (error) {
      mount(box, h("p", { class: "alert warn", role: "alert" }, t("recordingsFailed", { detail: error.message }), " ",
        h("button", { type: "button", onclick: fill }, t("refresh"))));
    }
  };
  fill();
  return section(t("recordings"), box);
}

function facts(m) {
  const s = m.s;
  return h(
    "dl",
    { class: "facts card" },
    h("dt", {}, t("kind")), h("dd", {}, `${t(`kind_${s.kind}`)} · ${t(`mode_${s.mode}`)}${s.stage ? ` · ${t(`stage_${s.stage}`)}` : ""}`),
    h("dt", {}, t("date")), h("dd", {}, fmt.span(s.starts_at, s.ends_at)),
    s.venue_id ? [h("dt", {}, t("venue")), h("dd", {}, m.venue ? `${m.venue.name}${m.venue.address ? ` · ${m.venue.address}` : ""}` : `#${s.venue_id}`)] : null,
    s.topic ? [h("dt", {}, t("topic")), h("dd", {}, s.topic)] : null,
    s.proposal_ids.length ? [h("dt", {}, t("linkedProposals")), h("dd", {}, h("ul", { class: "list" }, m.proposals.map((p) => h("li", {}, h("a", { href: `#/proposals/${p.id}` }, `${p.number} ${p.title}`)))))] : null,
    s.cancel_reason ? [h("dt", {}, t("cancelled")), h("dd", {}, t("cancelledBy", { reason: s.cancel_reason }))] : null,
  );
}

function draw(main, m, reload) {
  const s = m.s;
  const extras = [];
  if (s.visibility === "public") extras.push(section(t("joinLink"), qr(`${location.origin}/join/${s.id}`, t("joinLink"))));
  mount(
    main,
    h(
      "div",
      { class: "toolbar" },
      h("h1", {}, s.title, " ", h("span", { class: `badge ${s.status}` }, t(s.status))),
      h(
        "div",
        { class: "actions" },
        m.open ? h("a", { class: "button primary", href: `#/rooms/${s.id}` }, t("enterRoom")) : null,
        s.status === "ended" ? h("a", { class: "button", href: `#/minutes/${s.id}` }, t("minutes")) : null,
        m.staff && m.open ? h("a", { class: "button", href: `#/sessions/${s.id}/edit` }, t("edit")) : null,
        m.staff && m.open ? h("button", { type: "button", onclick: () => changeDialog(m, "reschedule", null, reload) }, t("reschedule")) : null,
        m.staff && m.open ? h("button", { type: "button", onclick: () => changeDialog(m, "cancel", null, reload) }, t("cancelSession")) : null,
        h("button", { type: "button", onclick: () => download(`/api/sessions/${s.id}/invite.ics`, "invite.ics") }, "iCalendar"),
      ),
    ),
    facts(m),
    h(
      "div",
      { class: "grid" },
      conflictsPart(m),
      participantsPart(m, reload),
      occurrencesPart(m, reload),
      s.agenda.length ? section(t("agenda"), h("ol", {}, s.agenda.map((a) => h("li", {}, a.title, a.planned_minutes ? h("small", { class: "muted" }, ` ${a.planned_minutes}′`) : null)))) : null,
      countersPart(m, reload),
      counterForm(m),
      m.staff
        ? section(t("deliveries"), m.deliveries.length ? h("ul", { class: "list" }, m.deliveries.map((d) => h("li", { class: "row" }, h("span", {}, d.recipient, h("small", { class: "muted" }, ` ${d.method}`)), h("span", { class: `badge ${d.state}` }, t(`delivery_${d.state}`))))) : empty())
        : null,
      extras,
      recordingsPart(m),
      hallPart(m),
    ),
  );
}

export async function show(main, where) {
  const reload = () => loadPage(main, () => load(where.id), (m) => draw(main, m, reload));
  await reload();
}
