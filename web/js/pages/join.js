// 码上商量: the phone page a public session's QR code opens. Enter a name, wait in the lobby,
// then watch the room and ask questions.
import { get, post } from "../api.js";
import { addTexts, t } from "../i18n.js";
import { fmt, field, h, mount, toast } from "../ui.js";
import { openRoom } from "./room.js";

const KEY = (id) => `xs.guest.${id}`;

addTexts({
  "zh-CN": { meetingTopic: "议题", meetingTime: "时间", meetingPlace: "地点", removedNote: "您已被移出本次会议。" },
  en: { meetingTopic: "Topic", meetingTime: "When", meetingPlace: "Where", removedNote: "You were removed from this session." },
});

// Which meeting this is: its title, time, place and topic (the page and the lobby show it).
function meetingCard(info) {
  return h(
    "div",
    { class: "meeting" },
    h("p", { class: "meeting-title" }, h("b", {}, info.title), " ", h("small", { class: "muted" }, t(`kind_${info.kind}`))),
    h("dl", {}, h("dt", {}, t("meetingTime")), h("dd", {}, fmt.span(info.starts_at, info.ends_at)), info.venue ? [h("dt", {}, t("meetingPlace")), h("dd", {}, info.venue)] : null, info.topic ? [h("dt", {}, t("meetingTopic")), h("dd", {}, info.topic)] : null),
  );
}

export async function show(main, where) {
  const sessionId = where.id;
  const info = await get(`/api/sessions/${sessionId}/public`);
  const saved = JSON.parse(sessionStorage.getItem(KEY(sessionId)) || "null");
  if (saved) return enter(main, sessionId, saved, info);
  const name = h("input", { name: "name", required: true, maxlength: 50, autocomplete: "name" });
  mount(
    main,
    h(
      "form",
      {
        class: "card narrow",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const pass = await post(`/api/sessions/${sessionId}/guest-join`, { name: name.value.trim() });
            sessionStorage.setItem(KEY(sessionId), JSON.stringify(pass));
            await enter(main, sessionId, pass, info);
          } catch (error) {
            toast(error.message);
          }
        },
      },
      h("h1", {}, t("app"), h("small", {}, t("tagline"))),
      meetingCard(info),
      field(t("yourName"), name),
      h("button", { type: "submit", class: "primary" }, t("joinAs")),
    ),
  );
  name.focus();
}

function enter(main, sessionId, pass, info) {
  const me = `g:${pass.guest_id}`;
  const waiting = h("div", { class: "card narrow waiting" }, h("h1", {}, t("lobby")), meetingCard(info), h("p", { role: "status" }, t("waiting")), h("div", { class: "spinner", "aria-hidden": "true" }));
  mount(main, waiting);
  let room = null;
  let inside = false;
  const close = openRoomWhenAdmitted();
  function openRoomWhenAdmitted() {
    const holder = h("div");
    const leave = openRoom(holder, {
      sessionId,
      title: info.title,
      onRemoved: () => {
        sessionStorage.removeItem(KEY(sessionId));
        mount(main, h("div", { class: "card narrow" }, h("p", { role: "status" }, t("removedNote"))));
      },
      auth: { guest_token: pass.guest_token },
      me,
      host: false,
      guest: true,
      onRoom: (r) => (room = r),
      onLobbyEvent: async (event) => {
        const admitted = event.type === "lobby.admit_all" ? event.data.guests.some((g) => g.who === me) : event.type === "lobby.admit" && event.data?.who === me;
        if (!admitted && event.data?.who !== me) return;
        if (admitted && !inside) {
          inside = true;
          mount(main, holder);
          await room.join().catch((error) => toast(error.message));
        } else if (!admitted && (event.type === "lobby.deny" || event.type === "participant.remove")) {
          sessionStorage.removeItem(KEY(sessionId));
          mount(main, h("div", { class: "card narrow" }, h("p", {}, t("denied"))));
        }
      },
      onRefused: (message) => {
        sessionStorage.removeItem(KEY(sessionId));
        mount(main, h("div", { class: "card narrow" }, h("p", {}, message)));
      },
    });
    // An admitted guest who reconnects gets a snapshot straight away.
    const observer = new MutationObserver(() => {
      if (!inside && room?.state) {
        inside = true;
        mount(main, holder);
      }
    });
    observer.observe(holder, { childList: true, subtree: true });
    return () => {
      observer.disconnect();
      leave();
    };
  }
  return close;
}
