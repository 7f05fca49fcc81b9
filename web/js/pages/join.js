// 码上商量: the phone page a public session's QR code opens. Enter a name, wait in the lobby,
// then watch the room and ask questions.
import { post } from "../api.js";
import { t } from "../i18n.js";
import { field, h, mount, toast } from "../ui.js";
import { openRoom } from "./room.js";

const KEY = (id) => `xs.guest.${id}`;

export async function show(main, where) {
  const sessionId = where.id;
  const saved = JSON.parse(sessionStorage.getItem(KEY(sessionId)) || "null");
  if (saved) return enter(main, sessionId, saved);
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
            await enter(main, sessionId, pass);
          } catch (error) {
            toast(error.message);
          }
        },
      },
      h("h1", {}, t("app"), h("small", {}, t("tagline"))),
      field(t("yourName"), name),
      h("button", { type: "submit", class: "primary" }, t("joinAs")),
    ),
  );
  name.focus();
}

function enter(main, sessionId, pass) {
  const me = `g:${pass.guest_id}`;
  const waiting = h("div", { class: "card narrow waiting", role: "status" }, h("h1", {}, t("lobby")), h("p", {}, t("waiting")), h("div", { class: "spinner", "aria-hidden": "true" }));
  mount(main, waiting);
  let room = null;
  let inside = false;
  const close = openRoomWhenAdmitted();
  function openRoomWhenAdmitted() {
    const holder = h("div");
    const leave = openRoom(holder, {
      sessionId,
      title: "",
      auth: { guest_token: pass.guest_token },
      me,
      host: false,
      guest: true,
      onRoom: (r) => (room = r),
      onLobbyEvent: async (event) => {
        if (event.data?.who !== me) return;
        if (event.type === "lobby.admit" && !inside) {
          inside = true;
          mount(main, holder);
          await room.join().catch((error) => toast(error.message));
        } else if (event.type === "lobby.deny" || event.type === "participant.remove") {
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
