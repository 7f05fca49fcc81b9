// The hall display (大屏): the page the venue's projector shows at /hall/{session_id}, opened
// with the hall-device pass (the session page issues it; it travels in the link's #pass=, never
// to a server log). Read-only and large: the current agenda item and its timer, who has the
// floor and their countdown, the queue (程序性发言 first), the newest poll's live 应到/实到/投票
// and its result, a progress report while one is shown, and the QR code to join. It follows the
// room live and recovers by itself: when the browser says it is offline it drops the
// connection and connects again once online (a fresh snapshot), and every few seconds it asks
// the room what it missed, reconnecting if the room does not answer.
import { renderSVG } from "/vendor/uqr.mjs";
import { get } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { outcomeWords, thresholdWords } from "../poll-words.js";
import { connectRoom } from "../room-client.js";
import { pollCounts, timerLeft } from "../room-state.js";
import { fmt, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    hallTitle: "会议大屏", hallCurrent: "当前议题", hallNoItem: "会议尚未开始", hallEnded: "会议已结束",
    hallTimeLeft: "剩余时间", hallOver: "已超时 {time}", hallFloor: "正在发言", hallNobody: "暂无人发言",
    hallQueue: "发言排队", hallQueueEmpty: "暂无人排队", hallPoll: "表决", hallScan: "扫码参加",
    hallLost: "网络中断，正在重新连接…", hallPassMissing: "请用会议详情页签发的大屏通行证打开此页面。",
    hallPassLabel: "大屏通行证", hallOpen: "打开大屏", hallProgress: "办理进展",
    hallPointOfOrder: "程序性发言", hallResult: "表决结果",
  },
  en: {
    hallTitle: "Hall display", hallCurrent: "Current item", hallNoItem: "The session has not started", hallEnded: "The session has ended",
    hallTimeLeft: "Time left", hallOver: "Over by {time}", hallFloor: "Has the floor", hallNobody: "Nobody has the floor",
    hallQueue: "Queue", hallQueueEmpty: "Nobody is waiting", hallPoll: "Poll", hallScan: "Scan to join",
    hallLost: "Connection lost; reconnecting…", hallPassMissing: "Open this page with the hall-display pass from the session's page.",
    hallPassLabel: "Hall-display pass", hallOpen: "Open the display", hallProgress: "Progress",
    hallPointOfOrder: "Point of order", hallResult: "Result",
  },
});

const CHECK_SECONDS = 8;

function passFrom(sessionId) {
  const fromLink = new URLSearchParams(location.hash.replace(/^#/, "")).get("pass");
  const key = `xieshang.hall.${sessionId}`;
  if (fromLink) {
    localStorage.setItem(key, fromLink);
    history.replaceState(null, "", location.pathname); // the pass stays out of the address bar
    return fromLink;
  }
  return localStorage.getItem(key);
}

// Someone's name as the room knows them.
function nameOf(state, key) {
  return state.presence[key]?.name || state.names?.[key] || state.attendance?.[key]?.name || state.admitted?.[key]?.name || "";
}

function qrCode(url) {
  const svg = new DOMParser().parseFromString(renderSVG(url, { border: 2 }), "image/svg+xml").documentElement;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("hallScan"));
  return document.importNode(svg, true);
}

function askPass(main, sessionId) {
  const input = h("input", { name: "pass", required: true, autocomplete: "off" });
  mount(main, h("form", { class: "card narrow", onsubmit: (event) => {
    event.preventDefault();
    let token = input.value.trim();
    try {
      token = JSON.parse(token).device_token || token; // the QR code's payload, pasted whole
    } catch {}
    localStorage.setItem(`xieshang.hall.${sessionId}`, token);
    location.reload();
  } }, h("h1", {}, t("hallTitle")), h("p", {}, t("hallPassMissing")), h("label", {}, t("hallPassLabel"), input), h("button", { type: "submit", class: "primary" }, t("hallOpen"))));
}

export async function show(main, where) {
  const sessionId = where.id;
  const token = passFrom(sessionId);
  if (!token) return askPass(main, sessionId);
  document.body.classList.add("hall-mode");
  // A public session's join link for citizens; otherwise the session's page for its members.
  const open = await get(`/api/sessions/${sessionId}/public`).then(() => true, () => false);
  const joinUrl = open ? `${location.origin}/join/${sessionId}` : `${location.origin}/sessions/${sessionId}`;
  const status = h("p", { class: "hall-status", role: "status" });
  const board = h("div", { class: "hall-board" });
  const side = h("aside", { class: "hall-join" }, h("h2", {}, t("hallScan")), qrCode(joinUrl), h("p", { class: "hall-url" }, joinUrl));
  mount(main, h("div", { class: "hall" }, status, board, side));
  let refused = "";
  const draw = (state) => {
    if (!state) return;
    mount(board, ...view(state));
    for (const bar of board.querySelectorAll(".bar span")) bar.style.width = `${bar.dataset.percent}%`;
  };
  const room = connectRoom(sessionId, { device_token: token }, "", false, {
    change: (state) => {
      status.textContent = "";
      draw(state);
    },
    status: (what) => {
      status.textContent = what === "lost" ? t("hallLost") : refused;
    },
    refused: (message) => {
      refused = message;
      status.textContent = message;
    },
  });
  // Recovering after a network drop: offline → let go; online → connect again (a fresh
  // snapshot); and a regular check that the room still answers (a half-open link does not).
  const offline = () => {
    status.textContent = t("hallLost");
    room.socket.disconnect();
  };
  const online = () => {
    if (!room.socket.connected) room.socket.connect();
  };
  window.addEventListener("offline", offline);
  window.addEventListener("online", online);
  const check = setInterval(async () => {
    if (!room.socket.connected) {
      if (navigator.onLine && !room.socket.active) room.socket.connect();
      return;
    }
    try {
      await room.refresh();
    } catch {
      room.socket.disconnect().connect();
    }
  }, CHECK_SECONDS * 1000);
  const ticker = setInterval(() => draw(room.state), 1000);
  return () => {
    clearInterval(check);
    clearInterval(ticker);
    window.removeEventListener("offline", offline);
    window.removeEventListener("online", online);
    document.body.classList.remove("hall-mode");
    room.close();
  };
}

function view(state) {
  const item = state.agenda.find((i) => i.id === state.current);
  const left = timerLeft(state);
  const heading = h("header", { class: "hall-head" }, h("h1", {}, state.title || t("hallTitle")));
  const current = h(
    "section",
    { class: "hall-item", "aria-labelledby": "hall-item-h" },
    h("h2", { id: "hall-item-h" }, t("hallCurrent")),
    state.status === "ended"
      ? h("p", { class: "hall-big" }, t("hallEnded"))
      : item
        ? [h("p", { class: "hall-big" }, item.title), left == null ? null : h("p", { class: `hall-timer ${left < 0 ? "over" : ""}` }, left < 0 ? t("hallOver", { time: fmt.clock(-left) }) : `${t("hallTimeLeft")} ${fmt.clock(left)}`)]
        : h("p", { class: "hall-big" }, t("hallNoItem")),
  );
  const floor = state.floor;
  const speaker = h(
    "section",
    { class: "hall-floor", "aria-labelledby": "hall-floor-h" },
    h("h2", { id: "hall-floor-h" }, t("hallFloor")),
    floor
      ? [h("p", { class: "hall-big" }, nameOf(state, floor.holder)), h("p", { class: "hall-timer", dataset: { until: floor.until } }, fmt.clock((Date.parse(floor.until) - Date.now()) / 1000))]
      : h("p", { class: "hall-quiet" }, t("hallNobody")),
  );
  const points = state.points_of_order || [];
  const queue = h(
    "section",
    { class: "hall-queue", "aria-labelledby": "hall-queue-h" },
    h("h2", { id: "hall-queue-h" }, t("hallQueue")),
    state.queue.length
      ? h("ol", {}, state.queue.map((key) => h("li", { class: points.includes(key) ? "order" : "" }, nameOf(state, key), points.includes(key) ? h("span", { class: "tag" }, t("hallPointOfOrder")) : null)))
      : h("p", { class: "hall-quiet" }, t("hallQueueEmpty")),
  );
  return [heading, current, speaker, queue, pollView(state), reportView(state)];
}

// The newest poll: its live counts while open, its result once closed.
function pollView(state) {
  const entries = Object.entries(state.polls || {}).sort(([a], [b]) => Number(b) - Number(a));
  if (!entries.length) return null;
  const [, poll] = entries[0];
  const n = poll.open ? pollCounts(state, poll) : poll.outcome || pollCounts(state, poll);
  const cell = (label, value, key) => h("div", { class: "count", dataset: { count: key } }, h("span", {}, label), h("b", {}, String(value)));
  const total = Math.max(1, ...(poll.results || [0]));
  return h(
    "section",
    { class: "hall-poll", "aria-labelledby": "hall-poll-h" },
    h("h2", { id: "hall-poll-h" }, poll.open ? t("hallPoll") : t("hallResult")),
    h("p", { class: "hall-question" }, poll.question),
    h("p", { class: "hall-rule" }, `${poll.secret ? t("pwSecret") : t("pwNamed")} · ${thresholdWords(poll.threshold)}`),
    h("div", { class: "poll-counts" }, cell(t("pwEligible"), n.eligible, "eligible"), cell(t("pwPresent"), n.present, "present"), cell(t("pwVoted"), n.voted, "voted")),
    poll.open
      ? null
      : [
          h("ul", { class: "hall-results" }, poll.options.map((o, i) => h("li", {}, h("span", {}, o), h("meter", { min: 0, max: total, value: poll.results?.[i] ?? 0, "aria-label": o }), h("b", {}, String(poll.results?.[i] ?? 0))))),
          poll.outcome ? h("p", { class: `hall-outcome ${poll.outcome.passed === false ? "failed" : ""}` }, outcomeWords(poll)) : null,
        ],
  );
}

function reportView(state) {
  const report = state.showing;
  if (!report) return null;
  return h(
    "section",
    { class: "hall-report", "aria-labelledby": "hall-report-h" },
    h("h2", { id: "hall-report-h" }, t("hallProgress")),
    h("p", { class: "hall-big" }, `${report.milestone || ""} ${report.percent ?? ""}%`),
    h("div", { class: "bar", role: "progressbar", "aria-label": t("hallProgress"), "aria-valuenow": report.percent, "aria-valuemin": 0, "aria-valuemax": 100 }, h("span", { dataset: { percent: Number(report.percent) || 0 } })),
    report.text ? h("p", {}, report.text) : null,
  );
}
