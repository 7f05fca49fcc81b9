// The live room: agenda with the current item and its timer, the speaker queue and the floor,
// polls, people in the hall and on screens, chat and questions, the lobby for hosts, the unit's
// progress report on everyone's screen, and live minutes for scribes. This controller wires the
// model (room-model.js: the session, the connection, media) to the view (room-view.js).
import { t } from "../i18n.js";
import { banner, toast } from "../ui.js";
import { loadReports, loadRoomOptions, RoomModel } from "./room-model.js";
import { RoomView } from "./room-view.js";

export async function show(main, where) {
  return openRoom(main, await loadRoomOptions(where.id));
}

// Shared with the public join page (guests see the same room with fewer controls). Returns the
// function that leaves the room.
export function openRoom(main, options) {
  let model = null;
  let view = null;
  let lost = false;
  let closing = false;
  // Sends a room command; true when the room accepted it (a refusal is shown to the reader).
  const run = async (type, data) => {
    try {
      await model.command(type, data);
      return true;
    } catch (error) {
      toast(error.message);
      return false;
    }
  };
  const ctx = {
    run,
    host: options.host,
    me: options.me,
    guest: !!options.guest,
    name: (state, key) => model.name(state, key),
    sessionId: options.sessionId,
    public: !!options.public,
    units: options.units || [],
  };
  let reportsLoaded = false;
  const changed = (state) => {
    if (model.removed(state) && options.onRemoved) {
      closing = true;
      model.close();
      return options.onRemoved();
    }
    view.render(state);
    if (!reportsLoaded && view.showsReports) {
      reportsLoaded = true;
      loadReports(options.agendaProposals).then((reports) => view.renderReports(reports));
    }
  };
  model = new RoomModel(options, {
    change: changed,
    media: () => {
      view.renderStage(model.state);
      view.renderControls(model.state);
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
      if (closing) return;
      banner(message, "warn");
      options.onRefused?.(message);
    },
    weak: (verdict) => view.weak.fellBack(verdict),
    lobby: options.onLobby,
    lobbyEvent: options.onLobbyEvent,
  });
  view = new RoomView(main, options, ctx, model);
  const ticker = setInterval(() => model.state && view.tick(model.state), 1000);
  options.onRoom?.(model.room);
  return () => {
    closing = true;
    clearInterval(ticker);
    model.close();
    banner("");
  };
}
