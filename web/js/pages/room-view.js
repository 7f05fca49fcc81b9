// The room's view: the panels (stage, floor, polls, minutes, agenda, people, lobby, chat,
// reports) drawn from the room state. It reads the model (state, media, names) and sends what
// people do through `ctx.run`; the controls for hosts and scribes are in room-controls.js.
import { t } from "../i18n.js";
import { timerLeft } from "../room-state.js";
import { badge, empty, fmt, h, mount, toast } from "../ui.js";
import * as consent from "./room-consent.js";
import * as controls from "./room-controls.js";
import { WeakNetwork } from "./room-weak.js";

export class RoomView {
  // `ctx`: { run, host, me, guest, name, sessionId, public, units } (see room-controls.js).
  constructor(main, options, ctx, model) {
    Object.assign(this, { main, options, ctx, model });
    const section = (label, extra = "card") => h("section", { class: extra, "aria-labelledby": label });
    this.panels = {
      stage: h("section", { class: "stage card", "aria-label": t("video") }),
      agenda: section("agenda-h"),
      floor: section("floor-h"),
      polls: section("polls-h"),
      people: section("people-h"),
      chat: section("chat-h", "card chat"),
      lobby: section("lobby-h"),
      minutes: section("minutes-h"),
      reports: section("reports-h"),
    };
    this.status = h("span", {});
    this.toolbar = h("div", { class: "actions" });
    this.notices = h("div", { class: "notices" });
    this.videos = new Map(); // one <video> per stream, kept across renders
    this.sounds = new Map(); // one <audio> per stream without video (audio only)
    this.weak = new WeakNetwork(model.media); // audio only, floor only, the fall-back notice
    // The forms stay in place across renders (only the lists are redrawn): typing is never lost.
    this.pollForm = ctx.host ? controls.pollForm(ctx) : null;
    this.agendaForm = ctx.host ? controls.agendaForm(ctx) : null;
    this.pollsList = h("div", {});
    this.agendaList = h("div", {});
    this.layout();
  }

  layout() {
    const { panels, options, ctx } = this;
    const reports = options.agendaProposals?.length && (ctx.host || options.unitId) ? panels.reports : null;
    mount(
      this.main,
      h("div", { class: "toolbar" }, h("h1", {}, options.title || " ", " ", this.status), this.toolbar),
      this.notices,
      this.weak.notice,
      h(
        "div",
        { class: "room" },
        h("div", { class: "room-main" }, panels.stage, this.weak.switches, panels.floor, panels.polls, ctx.host ? panels.minutes : null, reports),
        h("div", { class: "room-side" }, panels.agenda, panels.people, ctx.host ? panels.lobby : null, panels.chat),
      ),
    );
    this.heading = this.main.querySelector(".toolbar h1");
    mount(panels.polls, h("h2", { id: "polls-h" }, t("polls")), this.pollsList, this.pollForm);
    mount(panels.agenda, h("h2", { id: "agenda-h" }, t("agenda")), this.agendaList, this.agendaForm);
  }

  render(state) {
    this.renderControls(state);
    this.renderAgenda(state);
    this.renderStage(state);
    this.renderFloor(state);
    this.renderPeople(state);
    this.renderChat(state);
    this.renderPolls(state);
    if (this.ctx.host) {
      this.renderLobby(state);
      this.renderMinutes(state);
    }
  }

  // Once a second: the time left on a turn and on the current item.
  tick(state) {
    controls.refreshNotices(this.main);
    for (const el of this.main.querySelectorAll("[data-until]")) el.textContent = t("remaining", { time: fmt.clock((Date.parse(el.dataset.until) - Date.now()) / 1000) });
    const speaking = this.main.querySelector(".speaking-times");
    if (speaking && state.floor) { // the running turn's seconds count up
      const fresh = controls.speakingPanel(state, this.ctx);
      fresh.open = speaking.open;
      speaking.replaceWith(fresh);
    }
    const left = timerLeft(state);
    for (const el of this.main.querySelectorAll("[data-timer=item]")) {
      if (left !== null) {
        el.textContent = fmt.clock(Math.abs(left));
        el.classList.toggle("over", left < 0);
      }
    }
  }

  mediaButtons(state) {
    const media = this.model.media;
    if (this.options.guest || state.status === "ended" || !media) return [];
    const camera = [...media.published].find(([, f]) => f.source === "camera");
    const screen = [...media.published].find(([, f]) => f.source === "screen");
    if (!consent.mayPublish(state, this.ctx.me)) {
      // Not acknowledged (or declined): nothing is sent; what was sent stops (the server too).
      for (const [feedId] of media.published) media.unpublish(feedId).catch(() => {});
      return [h("button", { type: "button", disabled: true, title: t("consentFirst") }, t("cameraOn"))];
    }
    const toggle = (found, source) => async () => {
      try {
        if (found) await media.unpublish(found[0]);
        else await media.publish(source);
      } catch (error) {
        toast(error.message);
      }
      this.renderControls(this.model.state);
    };
    return [
      h("button", { type: "button", onclick: toggle(camera, "camera") }, camera ? t("cameraOff") : t("cameraOn")),
      this.ctx.host || this.options.unitId ? h("button", { type: "button", onclick: toggle(screen, "screen") }, screen ? t("shareStop") : t("shareScreen")) : null,
    ];
  }

  renderControls(state) {
    const { ctx, options } = this;
    const run = ctx.run;
    if (!options.title && state.title) this.heading.firstChild.textContent = state.title;
    mount(
      this.status,
      badge(t(state.status), state.status),
      state.recording ? h("span", { class: "badge recording", role: "status" }, `● ${t("recording")}`) : null,
    );
    mount(this.notices, consent.consentNotice(state, ctx), controls.floorNotice(state, ctx), controls.endedNote(state, ctx));
    this.weak.sync();
    this.weak.switches.hidden = state.status === "ended";
    if (!ctx.host) return mount(this.toolbar, this.mediaButtons(state));
    mount(
      this.toolbar,
      controls.waitingBadge(state),
      this.mediaButtons(state),
      controls.qrButton(ctx, state.title || options.title),
      state.status === "live"
        ? h("button", { type: "button", onclick: () => (state.recording ? run("recording.stop") : consent.startRecording(state, ctx)) }, state.recording ? t("recordStop") : t("recordStart"))
        : null,
      state.status === "scheduled" ? h("button", { type: "button", class: "primary", onclick: () => controls.startSession(ctx, options.recording) }, t("startSession")) : null,
      state.status === "live"
        ? [
            h("button", { type: "button", onclick: () => run("agenda.prev") }, t("prevItem")),
            h("button", { type: "button", class: "primary", onclick: () => run("agenda.next") }, t("nextItem")),
            state.timer?.running && state.timer.item_id === state.current
              ? h("button", { type: "button", onclick: () => run("timer.pause") }, t("timerPause"))
              : h("button", { type: "button", onclick: () => run("timer.start") }, t("timerStart")),
            h("button", { type: "button", class: "danger", onclick: () => controls.confirmEnd(ctx) }, t("endSession")),
          ]
        : null,
    );
  }

  renderAgenda(state) {
    const left = timerLeft(state);
    if (this.agendaForm) this.agendaForm.hidden = state.status === "ended";
    mount(
      this.agendaList,
      h(
        "ol",
        { class: "agenda" },
        state.agenda.map((item) =>
          h(
            "li",
            { class: item.id === state.current ? "current" : "", "aria-current": item.id === state.current ? "step" : null },
            h("span", {}, item.title),
            item.id === state.current && left !== null ? h("span", { class: `timer${left < 0 ? " over" : ""}`, dataset: { timer: "item" } }, fmt.clock(Math.abs(left))) : null,
            item.id === state.current ? controls.extendTimer(state, this.ctx) : controls.jumpButton(item, state, this.ctx),
          ),
        ),
      ),
    );
  }

  videoFor(stream, own) {
    let el = this.videos.get(stream);
    if (!el) {
      el = h("video", { autoplay: true, playsinline: true });
      el.muted = own; // never play your own microphone back
      el.srcObject = stream;
      this.videos.set(stream, el);
    }
    return el;
  }

  // The sound of a stream received without its picture (audio only, or not the floor holder).
  soundFor(stream) {
    let el = this.sounds.get(stream);
    if (!el) {
      el = h("audio", { autoplay: true });
      el.srcObject = stream;
      this.sounds.set(stream, el);
    }
    return el;
  }

  tile(state, key, p) {
    const { media } = this.model;
    const own = key === this.ctx.me;
    const found = media ? (own ? media.ownStream() : media.streamOf(key)) : null;
    const stream = found?.getVideoTracks().length ? found : null; // a picture to show
    const classes = ["tile", key === state.floor?.holder && "speaking", key === state.speaker && "active", p.role === "hall" && "hall", (state.muted || []).includes(key) && "muted"];
    return h(
      "div",
      { class: classes.filter(Boolean).join(" "), dataset: { who: key } },
      stream ? this.videoFor(stream, own) : h("div", { class: "avatar", "aria-hidden": "true" }, (p.name || "?").slice(0, 1)),
      found && !stream && !own ? this.soundFor(found) : null,
      h("div", { class: "tile-name" }, p.name, " ", badge(p.role === "hall" ? t("hall") : t(p.attendance === "in_person" ? "inPerson" : "remote"), p.attendance || "")),
    );
  }

  report(state) {
    const report = state.showing;
    if (!report) return null;
    return h(
      "div",
      { class: "report", role: "region", "aria-label": t("progress") },
      h("h2", {}, t("progress"), "：", report.milestone),
      h("div", { class: "bar", role: "progressbar", "aria-valuenow": report.percent, "aria-valuemin": 0, "aria-valuemax": 100 }, h("span", { dataset: { percent: report.percent } })),
      h("p", { class: "big" }, `${report.percent}%`),
      report.text ? h("p", {}, report.text) : null,
      this.ctx.host || report.shown_by === this.ctx.me ? h("button", { type: "button", onclick: () => this.ctx.run("progress.hide") }, t("hide")) : null,
    );
  }

  renderStage(state) {
    const { media } = this.model;
    const speaker = state.floor?.holder;
    // A crowd room (server/rooms/crowd.py) lists some people; the others publishing have tiles.
    const people = Object.entries(state.presence);
    if (state.crowd) for (const key of new Set((state.feeds || []).map((f) => f.who))) if (!(key in state.presence)) people.push([key, { name: this.ctx.name(state, key) }]);
    const tiles = people
      .sort(([a], [b]) => (a === speaker ? -1 : b === speaker ? 1 : 0))
      .map(([key, p]) => this.tile(state, key, p));
    const shared = media?.screen();
    const ownScreen = media?.ownStream("screen");
    const stage = this.panels.stage;
    mount(
      stage,
      this.report(state),
      shared || ownScreen ? h("div", { class: "screen" }, this.videoFor(shared ? shared.stream : ownScreen, !shared), h("div", { class: "tile-name" }, t("shareScreen"), shared ? ` · ${this.ctx.name(state, shared.who)}` : "")) : null,
      h("div", { class: "tiles" }, tiles.length ? tiles : h("p", { class: "muted" }, t("videoSoon"))),
    );
    for (const bar of stage.querySelectorAll(".bar span")) bar.style.width = `${bar.dataset.percent}%`;
    for (const video of stage.querySelectorAll("video, audio")) if (video.paused) video.play().catch(() => {});
  }

  renderFloor(state) {
    const { ctx } = this;
    const { run, host, name } = ctx;
    const floor = state.floor;
    const raised = state.queue.includes(ctx.me);
    mount(
      this.panels.floor,
      h("h2", { id: "floor-h" }, t("queue")),
      floor
        ? h(
            "p",
            { class: "floor" },
            h("strong", {}, `${t("floor")}：${name(state, floor.holder)}`),
            " ",
            h("span", { class: "timer", dataset: { until: floor.until } }, t("remaining", { time: fmt.clock((Date.parse(floor.until) - Date.now()) / 1000) })),
            controls.extendTurn(state, ctx),
            host ? h("button", { type: "button", class: "small", onclick: () => run("floor.revoke") }, t("revoke")) : null,
          )
        : null,
      state.queue.length
        ? h("ol", { class: "list" }, state.queue.map((key) => h("li", { class: "row" }, h("span", {}, name(state, key), (state.points_of_order || []).includes(key) ? [" ", badge(t("pointOfOrder"), "order")] : null), host ? h("button", { type: "button", class: "small", onclick: () => run("floor.grant", { who: key, seconds: 180 }) }, t("grant")) : null)))
        : empty(),
      state.status === "live"
        ? h("div", { class: "actions" },
            h("button", { type: "button", onclick: () => run(raised ? "hand.lower" : "hand.raise") }, raised ? t("lowerHand") : t("raiseHand")),
            (state.points_of_order || []).includes(ctx.me) || state.floor?.holder === ctx.me ? null : h("button", { type: "button", class: "small", onclick: () => run("point_of_order.request") }, t("pointOfOrderAsk")))
        : null,
      controls.speakingPanel(state, ctx),
    );
  }

  renderPeople(state) {
    const people = Object.entries(state.presence);
    const where = (key, p) => badge(state.attendance?.[key]?.checked_in || p.attendance === "in_person" ? t("inPerson") : t("remote"), p.attendance || "");
    // In a crowd room those who don't host see the others as counts by role.
    const crowd = Object.entries(state.crowd || {});
    const counted = crowd.reduce((sum, [, n]) => sum + n, 0);
    mount(
      this.panels.people,
      h("h2", { id: "people-h" }, `${t("present")}（${people.length + counted}）`),
      h("ul", { class: "list" }, people.map(([key, p]) => h("li", { class: "row", dataset: { who: key } }, h("span", {}, p.name, p.role ? h("small", { class: "muted" }, ` ${t(`role_${p.role}`)}`) : null), where(key, p), controls.personControls(key, state, this.ctx)))),
      counted ? h("p", { class: "crowd" }, t("alsoPresent", { list: crowd.map(([role, n]) => t("countOf", { role: t(`role_${role}`), n })).join("、") })) : null,
      !state.crowd && Object.keys(state.admitted).length ? h("p", { class: "muted" }, `${t("guests")}：${Object.values(state.admitted).map((g) => g.name).join("、")}`) : null,
    );
  }

  message(m) {
    const { host, run } = this.ctx;
    return h(
      "li",
      { class: m.kind },
      h("b", {}, m.name),
      m.kind === "question" ? badge(m.answered ? t("answered") : t("question"), m.answered ? "good" : "warn") : null,
      " ",
      m.text,
      host && m.kind === "question" && !m.answered ? h("button", { type: "button", class: "link", onclick: () => run("question.answer", { message_id: m.id }) }, t("markAnswered")) : null,
      host ? h("button", { type: "button", class: "link", onclick: () => run("chat.hide", { message_id: m.id }) }, t("hide")) : null,
    );
  }

  renderChat(state) {
    const { host, run } = this.ctx;
    const chat = this.panels.chat;
    const log = h("ul", { class: "messages", "aria-live": "polite" }, state.chat.filter((m) => !m.hidden).slice(-100).map((m) => this.message(m)));
    const text = h("input", { name: "message", maxlength: 2000, "aria-label": t("chat"), autocomplete: "off" });
    const asQuestion = h("input", { type: "checkbox", name: "question", checked: !host && this.options.guest });
    const previous = chat.querySelector("input[name=message]");
    if (previous && document.activeElement === previous) return; // typing: don't disturb
    const send = async (event) => {
      event.preventDefault();
      if (!text.value.trim()) return;
      await run("chat.send", { text: text.value, kind: asQuestion.checked ? "question" : "chat" });
      text.value = "";
    };
    mount(chat, h("h2", { id: "chat-h" }, t("chat")), log, h("form", { class: "send", onsubmit: send }, text, h("label", { class: "check" }, asQuestion, t("question")), h("button", { type: "submit" }, t("send"))));
    log.scrollTop = log.scrollHeight;
  }

  renderLobby(state) {
    const { run } = this.ctx;
    const waiting = Object.entries(state.lobby);
    const guest = ([key, g]) =>
      h(
        "li",
        { class: "row" },
        g.name,
        h("span", { class: "actions" }, h("button", { type: "button", class: "small primary", onclick: () => run("lobby.admit", { who: key }) }, t("admit")), h("button", { type: "button", class: "small", onclick: () => run("lobby.deny", { who: key }) }, t("deny"))),
      );
    mount(this.panels.lobby, controls.lobbyHead(state, this.ctx), waiting.length ? h("ul", { class: "list" }, waiting.map(guest)) : empty());
  }

  renderPolls(state) {
    mount(this.pollsList, controls.pollList(state, this.ctx));
    if (this.pollForm) this.pollForm.hidden = state.status !== "live";
  }

  // The scribe's panel for the current item. A scribe's unsaved text is never overwritten by an
  // event (the panel is "dirty" until it is sent).
  renderMinutes(state) {
    const panel = this.panels.minutes;
    if (panel.dataset.dirty) return;
    const item = state.agenda.find((i) => i.id === state.current) || state.agenda[0];
    if (!item) return mount(panel);
    const { ctx } = this;
    const written = state.minutes[String(item.id)] || { notes: {}, decisions: {}, actions: {} };
    const notes = h("textarea", { rows: 5, "aria-label": t("notes") }, written.notes.text || "");
    const decision = h("input", { "aria-label": t("decisions"), maxlength: 2000 });
    const action = h("input", { "aria-label": t("actionItems"), maxlength: 2000 });
    const due = h("input", { type: "date", "aria-label": t("due") });
    const owner = controls.unitSelect(ctx.units, null);
    const proposals = this.options.proposals || [];
    const proposal = controls.proposalSelect(proposals, item.proposal_id ?? null);
    const unitName = (id) => ctx.units.find((u) => u.id === id)?.name || "";
    const edit = async (data) => {
      delete panel.dataset.dirty; // this sends what was typed so far
      try {
        await this.model.command("minutes.edit", { item_id: item.id, ...data });
      } catch (error) {
        // e.g. another scribe saved first: keep this text on screen to merge by hand
        panel.dataset.dirty = "1";
        toast(error.message);
        return;
      }
      if (!panel.dataset.dirty) this.renderMinutes(this.model.state); // unless typing went on
    };
    const addAction = (e) => {
      e.preventDefault();
      if (!action.value.trim()) return;
      const unit = owner.value ? Number(owner.value) : null;
      edit({ op: "action.add", text: action.value, due: due.value || null, owner_unit_id: unit, proposal_id: proposal.value ? Number(proposal.value) : null });
    };
    const addDecision = (e) => {
      e.preventDefault();
      if (decision.value.trim()) edit({ op: "decision.add", text: decision.value });
    };
    panel.oninput = () => (panel.dataset.dirty = "1");
    mount(
      panel,
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
      h("form", { class: "send", onsubmit: addDecision }, decision, h("button", { type: "submit" }, t("add"))),
      h("h3", {}, t("actionItems")),
      h("ul", { class: "actions-list" }, Object.entries(written.actions).map(([id, a]) => controls.actionEntry(id, a, { units: ctx.units, proposals, unitName, edit }))),
      h("form", { class: "action-add", onsubmit: addAction }, action, owner, due, proposals.length ? proposal : null, h("button", { type: "submit" }, t("add"))),
    );
  }

  renderReports(reports) {
    mount(
      this.panels.reports,
      h("h2", { id: "reports-h" }, t("reports")),
      reports.length
        ? h("ul", { class: "list" }, reports.map((r) => h("li", { class: "row" }, `${r.milestone}（${r.percent}%）`, h("button", { type: "button", class: "small", onclick: () => this.ctx.run("progress.show", { proposal_id: r.proposal_id, report_id: r.id }) }, t("showReport")))))
        : empty(),
    );
  }

  get showsReports() {
    return this.panels.reports.isConnected;
  }
}
