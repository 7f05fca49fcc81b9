// The room's controls for hosts and scribes (and the parts everyone sees of them): polls, agenda
// jumps and additions, extending a turn or the timer, muting, removing, the lobby, the join QR
// code full-screen, the floor holder's notice. Views only: each takes the room state and a `ctx`
// ({ run, host, me, guest, name, sessionId, units }) and returns DOM; `run(type, data)` sends a
// room command (server/rooms/commands/*) and reports a refusal.
import { renderSVG } from "/vendor/uqr.mjs";
import { addTexts, t } from "../i18n.js";
import { minSec, outcomeWords, thresholdWords } from "../poll-words.js";
import { pollCounts, speakingTimes } from "../room-state.js";
import { badge, empty, fmt, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    polls: "表决", pollOpen: "发起表决", pollQuestion: "表决事项", pollOptions: "选项（每行一个）",
    pollMultiple: "可多选", pollGuests: "来宾可参加表决", pollClose: "结束表决", vote: "投票",
    votedCount: "已有 {n} 人投票", pollResults: "表决结果（{n} 人投票）", youVoted: "您已投票",
    pollClosed: "已结束", pollOpenBadge: "进行中", jumpTo: "转到此议题", addItem: "增加议题",
    itemTitle: "议题名称", plannedMinutes: "计划分钟", extendTurn: "发言延长 1 分钟",
    extendTimer: "计时延长 1 分钟", mute: "静音", unmute: "取消静音", remove: "移出",
    confirmRemove: "确定将 {name} 移出本次会议吗？移出后不能再进入。", admitAll: "全部准入",
    waitingCount: "等候 {n} 人", showQr: "全屏显示扫码参加二维码", closeQr: "关闭",
    scanToJoin: "扫码参加：{title}", youHaveFloor: "您正在发言，剩余 {time}",
    confirmEnd: "确定结束会议吗？结束后将生成会议纪要草稿，会议室关闭。", toMinutes: "查看会议纪要",
    endedNote: "会议已结束。", mutedBadge: "已静音", ownerUnit: "责任单位", proposalOf: "相关提案",
    noUnit: "（未指定）", noProposal: "（无）", askRecord: "本次会议设置为开始时询问是否录制。现在开始录制吗？",
    changeAction: "更新", actionOf: "落实事项：{text}",
    pollVoters: "谁可以投票", role_host: "主持人", role_proposer: "提案人", role_unit: "承办单位", role_leader: "领导",
    role_member: "委员", pollThreshold: "通过规则", pollSecret: "无记名投票（任何人都看不到谁投了什么，主持人也不能）",
    ballotsNamed: "记名结果", pointOfOrder: "程序性发言", pointOfOrderAsk: "申请程序性发言", speakingTimes: "发言时长",
  },
  en: {
    polls: "Polls", pollOpen: "Open a poll", pollQuestion: "Question", pollOptions: "Options (one a line)",
    pollMultiple: "Several choices allowed", pollGuests: "Guests may vote", pollClose: "Close the poll", vote: "Vote",
    votedCount: "{n} voted so far", pollResults: "Results ({n} voted)", youVoted: "You voted",
    pollClosed: "Closed", pollOpenBadge: "Open", jumpTo: "Go to this item", addItem: "Add an item",
    itemTitle: "Item title", plannedMinutes: "Planned minutes", extendTurn: "Extend the turn by 1 min",
    extendTimer: "Extend the timer by 1 min", mute: "Mute", unmute: "Unmute", remove: "Remove",
    confirmRemove: "Remove {name} from this session? They cannot come back.", admitAll: "Admit all",
    waitingCount: "{n} waiting", showQr: "Show the join QR code full-screen", closeQr: "Close",
    scanToJoin: "Scan to join: {title}", youHaveFloor: "You have the floor: {time} left",
    confirmEnd: "End the session? Draft minutes will be written and the room closes.", toMinutes: "Open the minutes",
    endedNote: "The session has ended.", mutedBadge: "Muted", ownerUnit: "Owner unit", proposalOf: "Proposal",
    noUnit: "(none)", noProposal: "(none)", askRecord: "This session asks whether to record it. Start recording now?",
    changeAction: "Update", actionOf: "Action item: {text}",
    pollVoters: "Who may vote", role_host: "Hosts", role_proposer: "Proposers", role_unit: "Units", role_leader: "Leaders",
    role_member: "Members", pollThreshold: "Threshold", pollSecret: "Secret ballot (nobody sees who voted what, hosts neither)",
    ballotsNamed: "Who voted what", pointOfOrder: "Point of order", pointOfOrderAsk: "Ask for a point of order", speakingTimes: "Speaking time",
  },
});

const left = (until) => fmt.clock(Math.max(0, (Date.parse(until) - Date.now()) / 1000));

// ---------------------------------------------------------------- polls

// The form a host opens a poll with; kept across renders (typing is never disturbed).
export function pollForm(ctx) {
  const question = h("input", { name: "question", required: true, maxlength: 300 });
  const options = h("textarea", { name: "options", rows: 3, required: true });
  const multiple = h("input", { type: "checkbox", name: "multiple" });
  const guests = h("input", { type: "checkbox", name: "guests" });
  const roles = ["host", "proposer", "unit", "leader", "member"].map((role) => [role, h("input", { type: "checkbox", name: "roles", value: role, checked: role !== "host" })]);
  const threshold = h("select", { name: "threshold" }, ["none", "majority_of_votes", "majority_of_present", "two_thirds"].map((v) => h("option", { value: v }, thresholdWords(v))));
  const secret = h("input", { type: "checkbox", name: "secret" });
  const form = h(
    "form",
    {
      class: "poll-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const choices = options.value.split("\n").map((o) => o.trim()).filter(Boolean);
        const voters = { roles: roles.filter(([, box]) => box.checked).map(([role]) => role), guests: guests.checked };
        const sent = await ctx.run("poll.open", { question: question.value.trim(), options: choices, multiple: multiple.checked, voters, threshold: threshold.value, secret: secret.checked });
        if (sent) form.reset();
      },
    },
    h("h3", {}, t("pollOpen")),
    h("label", {}, t("pollQuestion"), question),
    h("label", {}, t("pollOptions"), options),
    h("label", { class: "check" }, multiple, t("pollMultiple")),
    h("fieldset", { class: "voters" }, h("legend", {}, t("pollVoters")), roles.map(([role, box]) => h("label", { class: "check" }, box, t(`role_${role}`))), h("label", { class: "check" }, guests, t("pollGuests"))),
    h("label", {}, t("pollThreshold"), threshold),
    h("label", { class: "check" }, secret, t("pollSecret")),
    h("p", { class: "muted" }, t("pwQuorumRule")),
    h("button", { type: "submit" }, t("pollOpen")),
  );
  return form;
}

function mayVote(state, poll, ctx) {
  const eligible = (poll.eligible || []).includes(ctx.me) || (poll.guests && ctx.me in (state.admitted || {}));
  return poll.open && !poll.my_choices && eligible && !ctx.hall;
}

// 应到 / 实到 / 投票, live (the same count the server closes the poll with).
export function pollNumbers(state, poll) {
  const n = poll.open ? pollCounts(state, poll) : poll.outcome || pollCounts(state, poll);
  const cell = (label, value, key) => h("div", { class: "count", dataset: { count: key } }, h("span", {}, label), h("b", {}, String(value)));
  return h("div", { class: "poll-counts", role: "status" }, cell(t("pwEligible"), n.eligible, "eligible"), cell(t("pwPresent"), n.present, "present"), cell(t("pwVoted"), n.voted, "voted"));
}

function ballot(id, poll, ctx) {
  const type = poll.multiple ? "checkbox" : "radio";
  const inputs = poll.options.map((_o, i) => h("input", { type, name: `poll-${id}`, value: String(i) }));
  return h(
    "form",
    {
      class: "ballot",
      onsubmit: (event) => {
        event.preventDefault();
        const choices = inputs.filter((x) => x.checked).map((x) => Number(x.value));
        if (choices.length) ctx.run("poll.vote", { poll_id: Number(id), choices });
      },
    },
    h("fieldset", {}, h("legend", {}, poll.question), poll.options.map((o, i) => h("label", { class: "check" }, inputs[i], o))),
    h("button", { type: "submit", class: "primary" }, t("vote")),
  );
}

function results(poll) {
  const total = Math.max(1, ...(poll.results || [0]));
  return h(
    "div",
    { class: "results" },
    h("p", {}, h("b", {}, poll.question), " ", h("span", { class: "muted" }, t("pollResults", { n: poll.voters ?? 0 }))),
    h("ul", { class: "list" }, poll.options.map((o, i) => h("li", { class: "row" }, h("span", {}, o), h("meter", { min: 0, max: total, value: poll.results?.[i] ?? 0, "aria-label": o }), h("b", { dataset: { result: String(i) } }, String(poll.results?.[i] ?? 0))))),
    poll.outcome ? h("p", { class: `outcome ${poll.outcome.passed === false ? "failed" : ""}` }, outcomeWords(poll)) : null,
    poll.ballots?.length ? h("details", {}, h("summary", {}, t("ballotsNamed")), h("ul", { class: "list" }, poll.ballots.map((b) => h("li", {}, `${b.name}：${b.choices.map((c) => poll.options[c]).join("、")}`)))) : null,
  );
}

// The rule a poll runs under, in words.
function pollRule(poll) {
  return h("p", { class: "muted" }, [poll.secret ? t("pwSecret") : t("pwNamed"), thresholdWords(poll.threshold), t("pwQuorumRule")].join(" · "));
}

// Every poll of the room, newest first: live count while open, results once closed.
export function pollList(state, ctx) {
  const polls = Object.entries(state.polls || {}).sort(([a], [b]) => Number(b) - Number(a));
  if (!polls.length) return empty();
  return h(
    "ul",
    { class: "polls" },
    polls.map(([id, poll]) =>
      h(
        "li",
        { class: "poll", dataset: { poll: id } },
        poll.open
          ? [
              h("p", {}, badge(t("pollOpenBadge"), "live"), " ", h("b", {}, poll.question), " ", h("span", { class: "muted", role: "status", dataset: { count: "" } }, t("votedCount", { n: poll.voters ?? 0 }))),
              pollRule(poll),
              pollNumbers(state, poll),
              mayVote(state, poll, ctx) ? ballot(id, poll, ctx) : poll.my_choices ? h("p", { class: "muted" }, poll.my_choices.length ? `${t("youVoted")}：${poll.my_choices.map((c) => poll.options[c]).join("、")}` : t("youVoted")) : null,
              ctx.host ? h("button", { type: "button", onclick: () => ctx.run("poll.close", { poll_id: Number(id) }) }, t("pollClose")) : null,
            ]
          : [badge(t("pollClosed"), "ended"), results(poll), poll.outcome ? pollNumbers(state, poll) : null],
      ),
    ),
  );
}

// ---------------------------------------------------------------- agenda

export function jumpButton(item, state, ctx) {
  if (!ctx.host || state.status !== "live" || item.id === state.current) return null;
  return h("button", { type: "button", class: "small", onclick: () => ctx.run("agenda.goto", { item_id: item.id }), "aria-label": `${t("jumpTo")}：${item.title}` }, t("jumpTo"));
}

export function agendaForm(ctx) {
  const title = h("input", { name: "item-title", required: true, maxlength: 200 });
  const minutes = h("input", { name: "item-minutes", type: "number", min: 1, max: 600, inputmode: "numeric" });
  const form = h(
    "form",
    {
      class: "agenda-add",
      onsubmit: async (event) => {
        event.preventDefault();
        const planned = minutes.value ? Number(minutes.value) : null;
        if (await ctx.run("agenda.add", { title: title.value.trim(), planned_minutes: planned })) form.reset();
      },
    },
    h("label", {}, t("itemTitle"), title),
    h("label", {}, t("plannedMinutes"), minutes),
    h("button", { type: "submit" }, t("addItem")),
  );
  return form;
}

// ---------------------------------------------------------------- the floor and timers

export function floorNotice(state, ctx) {
  if (!state.floor || state.floor.holder !== ctx.me) return null;
  return h("p", { class: "notice floor-mine", role: "status", dataset: { mine: state.floor.until } }, t("youHaveFloor", { time: left(state.floor.until) }));
}

export function refreshNotices(root) {
  for (const el of root.querySelectorAll("[data-mine]")) el.textContent = t("youHaveFloor", { time: left(el.dataset.mine) });
}

export function extendTurn(state, ctx) {
  return ctx.host && state.floor ? h("button", { type: "button", class: "small", onclick: () => ctx.run("floor.extend", { seconds: 60 }) }, t("extendTurn")) : null;
}

export function extendTimer(state, ctx) {
  const item = state.agenda.find((i) => i.id === state.current);
  return ctx.host && state.status === "live" && item?.planned_minutes ? h("button", { type: "button", class: "small", onclick: () => ctx.run("timer.extend", { seconds: 60 }) }, t("extendTimer")) : null;
}

// ---------------------------------------------------------------- people

export function personControls(key, state, ctx) {
  if (!ctx.host || key === ctx.me) return null;
  const muted = (state.muted || []).includes(key);
  const who = ctx.name(state, key);
  return h(
    "span",
    { class: "actions" },
    muted ? badge(t("mutedBadge"), "warn") : null,
    state.presence[key] ? h("button", { type: "button", class: "small", onclick: () => ctx.run(muted ? "audio.unmute" : "audio.mute", { who: key }), "aria-label": `${t(muted ? "unmute" : "mute")}：${who}` }, t(muted ? "unmute" : "mute")) : null,
    h("button", {
      type: "button",
      class: "small danger",
      "aria-label": `${t("remove")}：${who}`,
      onclick: () => {
        if (window.confirm(t("confirmRemove", { name: who }))) ctx.run("participant.remove", { who: key });
      },
    }, t("remove")),
  );
}

// ---------------------------------------------------------------- lobby

export function lobbyHead(state, ctx) {
  const waiting = Object.keys(state.lobby).length;
  return [
    h("h2", { id: "lobby-h" }, `${t("lobby")}（${waiting}）`),
    waiting > 1 ? h("button", { type: "button", class: "primary", onclick: () => ctx.run("lobby.admit_all") }, t("admitAll")) : null,
  ];
}

export function waitingBadge(state) {
  const waiting = Object.keys(state.lobby || {}).length;
  return waiting ? h("a", { class: "badge warn", href: "#lobby-h", role: "status" }, t("waitingCount", { n: waiting })) : null;
}

// ---------------------------------------------------------------- the join QR code

export function qrButton(ctx, title) {
  if (!ctx.host || !ctx.public) return null;
  return h("button", { type: "button", onclick: () => showQr(`${location.origin}/join/${ctx.sessionId}`, title) }, t("showQr"));
}

function showQr(url, title) {
  const svg = new DOMParser().parseFromString(renderSVG(url, { border: 2 }), "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("scanToJoin", { title }));
  const close = h("button", { type: "button", class: "primary", onclick: () => dialog.close() }, t("closeQr"));
  const dialog = h("dialog", { class: "qr-full", "aria-labelledby": "qr-full-h" }, h("h2", { id: "qr-full-h" }, t("scanToJoin", { title })), document.importNode(svg, true), h("p", {}, h("a", { href: url }, url)), close);
  dialog.addEventListener("close", () => {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  dialog.requestFullscreen?.().catch(() => {});
  close.focus();
}

// ---------------------------------------------------------------- the end

export function endedNote(state, ctx) {
  if (state.status !== "ended") return null;
  return h("p", { class: "notice", role: "status" }, t("endedNote"), " ", ctx.guest ? null : h("a", { href: `#/minutes/${ctx.sessionId}`, class: "button" }, t("toMinutes")));
}

// Start the session, then follow its recording setting: ``on`` records at once, ``ask`` asks.
export async function startSession(ctx, recording) {
  if (!(await ctx.run("session.start"))) return;
  if (recording === "on" || (recording === "ask" && window.confirm(t("askRecord")))) await ctx.run("recording.start");
}

export function confirmEnd(ctx) {
  if (window.confirm(t("confirmEnd"))) ctx.run("session.end");
}

// Units, for the owner of an action item (loaded once by the page).
export function unitSelect(units, value, label) {
  return h(
    "select",
    { name: "owner_unit_id", "aria-label": label || t("ownerUnit") },
    h("option", { value: "" }, t("noUnit")),
    units.map((u) => h("option", { value: String(u.id), selected: u.id === value }, u.name)),
  );
}

export function proposalSelect(ids, value, label) {
  return h(
    "select",
    { name: "proposal_id", "aria-label": label || t("proposalOf") },
    h("option", { value: "" }, t("noProposal")),
    ids.map((p) => h("option", { value: String(p.id), selected: p.id === value }, p.label)),
  );
}

// One recorded action item in the room's minutes panel: its text, and for the scribe its owner
// unit, due date and proposal to change (``action.update`` on the version shown).
export function actionEntry(id, a, { units, proposals, unitName, edit }) {
  const label = t("actionOf", { text: a.text });
  const owner = unitSelect(units, a.owner_unit_id ?? null, `${label} ${t("ownerUnit")}`);
  const due = h("input", { type: "date", value: a.due || "", "aria-label": `${label} ${t("due")}` });
  const proposal = proposalSelect(proposals, a.proposal_id ?? null, `${label} ${t("proposalOf")}`);
  const save = (event) => {
    event.preventDefault();
    edit({ op: "action.update", entry_id: id, base_version: a.version, text: a.text, owner_unit_id: owner.value ? Number(owner.value) : null, due: due.value || null, proposal_id: proposal.value ? Number(proposal.value) : null });
  };
  return h(
    "li",
    { dataset: { entry: id } },
    h("span", {}, a.text, a.owner_unit_id ? h("small", { class: "muted" }, ` ${t("ownerUnit")}：${unitName(a.owner_unit_id)}`) : null, a.due ? h("small", { class: "muted" }, ` ${t("due")} ${a.due}`) : null, a.proposal_id ? h("small", { class: "muted" }, ` ${proposals.find((p) => p.id === a.proposal_id)?.label || `#${a.proposal_id}`}`) : null),
    h("form", { class: "action-row", onsubmit: save }, owner, due, proposals.length ? proposal : null, h("button", { type: "submit", class: "small" }, t("changeAction"))),
  );
}

export { mount };

// ---------------------------------------------------------------- speaking time

// Each person's time with the floor, on the current item and in total (hosts see it).
export function speakingPanel(state, ctx) {
  if (!ctx.host || !state.spoken?.length) return null;
  const line = (entry) => h("li", { class: "row" }, h("span", {}, ctx.name(state, entry.who)), h("b", { dataset: { speaking: entry.who } }, minSec(entry.seconds)));
  return h("details", { class: "speaking-times", open: true }, h("summary", {}, t("speakingTimes")), h("ul", { class: "list" }, speakingTimes(state).map(line)));
}
