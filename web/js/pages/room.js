// The live room: agenda with the current item and its timer, the speaker queue and the floor,
// people in the hall and on screens, chat and questions, the lobby for hosts, the unit's
// progress report on everyone's screen, and live minutes for scribes.
import { get, session } from "../api.js";
import { t } from "../i18n.js";
import { Media } from "../media.js";
import { connectRoom } from "../room-client.js";
import { timerLeft } from "../room-state.js";
import { badge, banner, empty, fmt, h, mount, toast } from "../ui.js";

export async function show(main, where) {
  const me = session().person;
  const info = await get(`/api/sessions/${where.id}`);
  const mine = info.participants.find((p) => p.person_id === me.id);
  const host = me.role === "staff" || mine?.role === "host";
  return openRoom(main, {
    sessionId: where.id,
    title: info.title,
    auth: { token: session().token },
    me: `p:${me.id}`,
    host,
    unitId: me.unit_id,
    agendaProposals: info.agenda.map((a) => a.proposal_id).filter(Boolean),
  });
}

// Shared with the public join page (guests see the same room with fewer controls).
export function openRoom(main, options) {
  const { sessionId, me, host } = options;
  const panels = {
    stage: h("section", { class: "stage card", "aria-label": t("video") }),
    agenda: h("section", { class: "card", "aria-labelledby": "agenda-h" }),
    floor: h("section", { class: "card", "aria-labelledby": "floor-h" }),
    people: h("section", { class: "card", "aria-labelledby": "people-h" }),
    chat: h("section", { class: "card chat", "aria-labelledby": "chat-h" }),
    lobby: h("section", { class: "card", "aria-labelledby": "lobby-h" }),
    minutes: h("section", { class: "card", "aria-labelledby": "minutes-h" }),
    reports: h("section", { class: "card", "aria-labelledby": "reports-h" }),
  };
  const status = h("span", {});
  const controls = h("div", { class: "actions" });
  mount(
    main,
    h("div", { class: "toolbar" }, h("h1", {}, options.title || " ", " ", status), controls),
    h(
      "div",
      { class: "room" },
      h("div", { class: "room-main" }, panels.stage, panels.floor, host ? panels.minutes : null, options.agendaProposals?.length && (host || options.unitId) ? panels.reports : null),
      h("div", { class: "room-side" }, panels.agenda, panels.people, host ? panels.lobby : null, panels.chat),
    ),
  );

  let room = null;
  let media = null;
  const run = async (type, data) => {
    try {
      await room.command(type, data);
    } catch (error) {
      toast(error.message);
    }
  };
  const name = (state, key) => state.presence[key]?.name || state.attendance?.[key]?.name || state.admitted[key]?.name || key;

  const heading = main.querySelector(".toolbar h1");
  function mediaButtons(state) {
    if (options.guest || state.status === "ended" || !media) return [];
    const camera = [...media.published].find(([, f]) => f.source === "camera");
    const screen = [...media.published].find(([, f]) => f.source === "screen");
    const toggle = (found, source) => async () => {
      try {
        if (found) await media.unpublish(found[0]);
        else await media.publish(source);
      } catch (error) {
        toast(error.message);
      }
      renderControls(room.state);
    };
    return [
      h("button", { type: "button", onclick: toggle(camera, "camera") }, camera ? t("cameraOff") : t("cameraOn")),
      host || options.unitId ? h("button", { type: "button", onclick: toggle(screen, "screen") }, screen ? t("shareStop") : t("shareScreen")) : null,
    ];
  }

  function renderControls(state) {
    if (!options.title && state.title) heading.firstChild.textContent = state.title;
    mount(
      status,
      badge(t(state.status), state.status),
      state.recording ? h("span", { class: "badge recording", role: "status" }, `● ${t("recording")}`) : null,
    );
    if (!host) return mount(controls, mediaButtons(state));
    mount(
      controls,
      mediaButtons(state),
      state.status === "live"
        ? h("button", { type: "button", onclick: () => run(state.recording ? "recording.stop" : "recording.start") }, state.recording ? t("recordStop") : t("recordStart"))
        : null,
      state.status === "scheduled" ? h("button", { type: "button", class: "primary", onclick: () => run("session.start") }, t("startSession")) : null,
      state.status === "live"
        ? [
            h("button", { type: "button", onclick: () => run("agenda.prev") }, t("prevItem")),
            h("button", { type: "button", class: "primary", onclick: () => run("agenda.next") }, t("nextItem")),
            state.timer?.running && state.timer.item_id === state.current
              ? h("button", { type: "button", onclick: () => run("timer.pause") }, t("timerPause"))
              : h("button", { type: "button", onclick: () => run("timer.start") }, t("timerStart")),
            h("button", { type: "button", class: "danger", onclick: () => run("session.end") }, t("endSession")),
          ]
        : null,
    );
  }

  function renderAgenda(state) {
    const left = timerLeft(state);
    mount(
      panels.agenda,
      h("h2", { id: "agenda-h" }, t("agenda")),
      h(
        "ol",
        { class: "agenda" },
        state.agenda.map((item) =>
          h(
            "li",
            { class: item.id === state.current ? "current" : "", "aria-current": item.id === state.current ? "step" : null },
            h("span", {}, item.title),
            item.id === state.current && left !== null ? h("span", { class: `timer${left < 0 ? " over" : ""}`, dataset: { timer: "item" } }, fmt.clock(Math.abs(left))) : null,
          ),
        ),
      ),
    );
  }

  const videos = new Map(); // one <video> per stream, kept across renders
  function videoFor(stream, own) {
    let el = videos.get(stream);
    if (!el) {
      el = h("video", { autoplay: true, playsinline: true });
      el.muted = own; // never play your own microphone back
      el.srcObject = stream;
      videos.set(stream, el);
    }
    return el;
  }

  function renderStage(state) {
    const present = Object.entries(state.presence);
    const speaker = state.floor?.holder;
    const tiles = present
      .sort(([a], [b]) => (a === speaker ? -1 : b === speaker ? 1 : 0))
      .map(([key, p]) => {
        const own = key === me;
        const stream = media ? (own ? media.ownStream() : media.streamOf(key)) : null;
        return h(
          "div",
          { class: `tile${key === speaker ? " speaking" : ""}${key === state.speaker ? " active" : ""}${p.role === "hall" ? " hall" : ""}${(state.muted || []).includes(key) ? " muted" : ""}`, dataset: { who: key } },
          stream ? videoFor(stream, own) : h("div", { class: "avatar", "aria-hidden": "true" }, (p.name || "?").slice(0, 1)),
          h("div", { class: "tile-name" }, p.name, " ", badge(p.role === "hall" ? t("hall") : t(p.attendance === "in_person" ? "inPerson" : "remote"), p.attendance || "")),
        );
      });
    const shared = media?.screen();
    const ownScreen = media?.ownStream("screen");
    const report = state.showing;
    mount(
      panels.stage,
      report
        ? h(
            "div",
            { class: "report", role: "region", "aria-label": t("progress") },
            h("h2", {}, t("progress"), "：", report.milestone),
            h("div", { class: "bar", role: "progressbar", "aria-valuenow": report.percent, "aria-valuemin": 0, "aria-valuemax": 100 }, h("span", { dataset: { percent: report.percent } })),
            h("p", { class: "big" }, `${report.percent}%`),
            report.text ? h("p", {}, report.text) : null,
            host || report.shown_by === me ? h("button", { type: "button", onclick: () => run("progress.hide") }, t("hide")) : null,
          )
        : null,
      shared || ownScreen ? h("div", { class: "screen" }, videoFor(shared ? shared.stream : ownScreen, !shared), h("div", { class: "tile-name" }, t("shareScreen"), shared ? ` · ${name(state, shared.who)}` : "")) : null,
      h("div", { class: "tiles" }, tiles.length ? tiles : h("p", { class: "muted" }, t("videoSoon"))),
    );
    for (const bar of panels.stage.querySelectorAll(".bar span")) bar.style.width = `${bar.dataset.percent}%`;
    for (const video of panels.stage.querySelectorAll("video")) if (video.paused) video.play().catch(() => {});
  }

  function renderFloor(state) {
    const floor = state.floor;
    const raised = state.queue.includes(me);
    mount(
      panels.floor,
      h("h2", { id: "floor-h" }, t("queue")),
      floor
        ? h(
            "p",
            { class: "floor" },
            h("strong", {}, `${t("floor")}：${name(state, floor.holder)}`),
            " ",
            h("span", { class: "timer", dataset: { until: floor.until } }, t("remaining", { time: fmt.clock((Date.parse(floor.until) - Date.now()) / 1000) })),
            host ? h("button", { type: "button", class: "small", onclick: () => run("floor.revoke") }, t("revoke")) : null,
          )
        : null,
      state.queue.length
        ? h("ol", { class: "list" }, state.queue.map((key) => h("li", { class: "row" }, name(state, key), host ? h("button", { type: "button", class: "small", onclick: () => run("floor.grant", { who: key, seconds: 180 }) }, t("grant")) : null)))
        : empty(),
      state.status === "live"
        ? h("button", { type: "button", onclick: () => run(raised ? "hand.lower" : "hand.raise") }, raised ? t("lowerHand") : t("raiseHand"))
        : null,
    );
  }

  function renderPeople(state) {
    const people = Object.entries(state.presence);
    mount(
      panels.people,
      h("h2", { id: "people-h" }, `${t("present")}（${people.length}）`),
      h("ul", { class: "list" }, people.map(([key, p]) => h("li", { class: "row" }, h("span", {}, p.name, p.role ? h("small", { class: "muted" }, ` ${t(`role_${p.role}`)}`) : null), badge(state.attendance?.[key]?.checked_in || p.attendance === "in_person" ? t("inPerson") : t("remote"), p.attendance || "")))),
      Object.keys(state.admitted).length ? h("p", { class: "muted" }, `${t("guests")}：${Object.values(state.admitted).map((g) => g.name).join("、")}`) : null,
    );
  }

  function renderChat(state) {
    const log = h(
      "ul",
      { class: "messages", "aria-live": "polite" },
      state.chat
        .filter((m) => !m.hidden)
        .slice(-100)
        .map((m) =>
          h(
            "li",
            { class: m.kind },
            h("b", {}, m.name),
            m.kind === "question" ? badge(m.answered ? t("answered") : t("question"), m.answered ? "good" : "warn") : null,
            " ",
            m.text,
            host && m.kind === "question" && !m.answered ? h("button", { type: "button", class: "link", onclick: () => run("question.answer", { message_id: m.id }) }, t("markAnswered")) : null,
            host ? h("button", { type: "button", class: "link", onclick: () => run("chat.hide", { message_id: m.id }) }, t("hide")) : null,
          ),
        ),
    );
    const text = h("input", { name: "message", maxlength: 2000, "aria-label": t("chat"), autocomplete: "off" });
    const asQuestion = h("input", { type: "checkbox", name: "question", checked: !host && options.guest });
    const previous = panels.chat.querySelector("input[name=message]");
    if (previous && document.activeElement === previous) return; // typing: don't disturb
    mount(
      panels.chat,
      h("h2", { id: "chat-h" }, t("chat")),
      log,
      h(
        "form",
        {
          class: "send",
          onsubmit: async (event) => {
            event.preventDefault();
            if (!text.value.trim()) return;
            await run("chat.send", { text: text.value, kind: asQuestion.checked ? "question" : "chat" });
            text.value = "";
          },
        },
        text,
        h("label", { class: "check" }, asQuestion, t("question")),
        h("button", { type: "submit" }, t("send")),
      ),
    );
    log.scrollTop = log.scrollHeight;
  }

  function renderLobby(state) {
    const waiting = Object.entries(state.lobby);
    mount(
      panels.lobby,
      h("h2", { id: "lobby-h" }, `${t("lobby")}（${waiting.length}）`),
      waiting.length
        ? h("ul", { class: "list" }, waiting.map(([key, g]) => h("li", { class: "row" }, g.name, h("span", { class: "actions" }, h("button", { type: "button", class: "small primary", onclick: () => run("lobby.admit", { who: key }) }, t("admit")), h("button", { type: "button", class: "small", onclick: () => run("lobby.deny", { who: key }) }, t("deny"))))))
        : empty(),
    );
  }

  function renderMinutes(state) {
    if (panels.minutes.dataset.dirty) return; // a scribe has unsaved text: don't overwrite it
    const item = state.agenda.find((i) => i.id === state.current) || state.agenda[0];
    if (!item) return mount(panels.minutes);
    const written = state.minutes[String(item.id)] || { notes: {}, decisions: {}, actions: {} };
    const notes = h("textarea", { rows: 5, "aria-label": t("notes") }, written.notes.text || "");
    const decision = h("input", { "aria-label": t("decisions"), maxlength: 2000 });
    const action = h("input", { "aria-label": t("actionItems"), maxlength: 2000 });
    const due = h("input", { type: "date", "aria-label": t("due") });
    const edit = async (data) => {
      delete panels.minutes.dataset.dirty; // this sends what was typed so far
      try {
        await room.command("minutes.edit", { item_id: item.id, ...data });
      } catch (error) {
        // e.g. another scribe saved first: keep this text on screen to merge by hand
        panels.minutes.dataset.dirty = "1";
        toast(error.message);
        return;
      }
      if (!panels.minutes.dataset.dirty) renderMinutes(room.state); // unless typing went on
    };
    panels.minutes.oninput = () => (panels.minutes.dataset.dirty = "1");
    mount(
      panels.minutes,
      h("h2", { id: "minutes-h" }, `${t("minutes")} · ${item.title}`),
      h("label", {}, t("notes")),
      notes,
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", onclick: () => edit({ op: "notes", text: notes.value, base_version: written.notes.version || 0 }) }, t("save")),
        written.notes.version ? h("small", { class: "muted", role: "status" }, t("savedVersion", { v: written.notes.version })) : null,
      ),
      h("h3", {}, t("decisions")),
      h("ul", {}, Object.values(written.decisions).map((d) => h("li", {}, d.text))),
      h("form", { class: "send", onsubmit: (e) => { e.preventDefault(); if (decision.value.trim()) edit({ op: "decision.add", text: decision.value }); } }, decision, h("button", { type: "submit" }, t("add"))),
      h("h3", {}, t("actionItems")),
      h("ul", {}, Object.values(written.actions).map((a) => h("li", {}, a.text, a.due ? h("small", { class: "muted" }, ` ${t("due")} ${a.due}`) : null))),
      h("form", { class: "send", onsubmit: (e) => { e.preventDefault(); if (action.value.trim()) edit({ op: "action.add", text: action.value, due: due.value || null, owner_unit_id: null }); } }, action, due, h("button", { type: "submit" }, t("add"))),
    );
  }

  async function renderReports() {
    if (!panels.reports.isConnected || panels.reports.dataset.loaded) return;
    panels.reports.dataset.loaded = "1";
    const lists = await Promise.all(options.agendaProposals.map((pid) => get(`/api/proposals/${pid}/handling`).catch(() => null)));
    const reports = lists.filter(Boolean).flatMap((l) => l.progress.map((r) => r));
    mount(
      panels.reports,
      h("h2", { id: "reports-h" }, t("reports")),
      reports.length
        ? h("ul", { class: "list" }, reports.map((r) => h("li", { class: "row" }, `${r.milestone}（${r.percent}%）`, h("button", { type: "button", class: "small", onclick: () => run("progress.show", { proposal_id: r.proposal_id, report_id: r.id }) }, t("showReport")))))
        : empty(),
    );
  }

  function renderAll(state) {
    renderControls(state);
    renderAgenda(state);
    renderStage(state);
    renderFloor(state);
    renderPeople(state);
    renderChat(state);
    if (host) {
      renderLobby(state);
      renderMinutes(state);
    }
    renderReports();
  }

  const ticker = setInterval(() => {
    const state = room?.state;
    if (!state) return;
    for (const el of document.querySelectorAll("[data-until]")) el.textContent = t("remaining", { time: fmt.clock((Date.parse(el.dataset.until) - Date.now()) / 1000) });
    const left = timerLeft(state);
    for (const el of document.querySelectorAll("[data-timer=item]")) {
      if (left !== null) {
        el.textContent = fmt.clock(Math.abs(left));
        el.classList.toggle("over", left < 0);
      }
    }
  }, 1000);

  let lost = false;
  let closing = false;
  room = connectRoom(sessionId, options.auth, me, {
    change: (state) => {
      if (media) {
        media.iceServers = room.iceServers;
        media.follow(state.feeds || []);
      }
      renderAll(state);
    },
    status: (what) => {
      if (closing) return;
      if (what === "lost") {
        lost = true;
        banner(t("reconnecting"), "warn");
      } else if (lost) {
        lost = false;
        banner(t("reconnected"), "good");
        setTimeout(() => banner(""), 3000);
      }
    },
    refused: (message) => {
      banner(message, "warn");
      options.onRefused?.(message);
    },
    lobby: options.onLobby,
    lobbyEvent: options.onLobbyEvent,
  });
  // A stream came or went (also when the media moved to another server and was published again).
  media = new Media(room.socket, () => {
    if (!room.state) return;
    renderStage(room.state);
    renderControls(room.state);
  });
  options.onRoom?.(room);
  return () => {
    closing = true;
    clearInterval(ticker);
    media.close();
    room.close();
    banner("");
  };
}
