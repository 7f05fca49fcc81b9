// Consent to recording (server/rooms/commands/consent.py): in a session that is or may be
// recorded, everyone acknowledges a notice before their camera or microphone is sent. Someone who
// declines still watches and asks in writing; they may accept later. The server refuses media
// from anyone who has not accepted, and stops it when they decline.
import { addTexts, t } from "../i18n.js";
import { h } from "../ui.js";

addTexts({
  "zh-CN": {
    consentTitle: "录制提示", consentText: "本次会议将会或可能被录音录像。确认知悉后，您的摄像头和麦克风才会发送；如不同意，您仍可观看会议，并通过文字发言和提问。",
    consentAccept: "我已知悉，同意录制", consentDecline: "不同意（仅观看和文字提问）",
    consentDeclined: "您未同意录制：您的摄像头和麦克风不会发送，仍可观看并用文字提问。", consentChange: "改为同意录制",
    consentFirst: "请先确认录制提示，再打开摄像头。",
  },
  en: {
    consentTitle: "Recording notice", consentText: "This session is or may be recorded (sound and video). Your camera and microphone are sent only after you acknowledge this; if you decline, you can still watch and take part in writing (chat and questions).",
    consentAccept: "I understand and agree to be recorded", consentDecline: "Decline (watch and write only)",
    consentDeclined: "You declined recording: your camera and microphone are not sent; you can still watch and ask in writing.", consentChange: "Agree to recording",
    consentFirst: "Acknowledge the recording notice before turning on your camera.",
  },
});

// Whether the room asks for consent (as consent.py's `asking`), and this viewer's answer.
export const asking = (state) => !!state.consent_asked || !!state.recording;
export const answerOf = (state, me) => state.consent?.[me]?.answer || null;
export const mayPublish = (state, me) => !asking(state) || answerOf(state, me) === "accepted";

// The notice (unanswered) or the reminder after declining; nothing otherwise.
export function consentNotice(state, ctx) {
  if (!asking(state) || state.status === "ended") return null;
  const answer = answerOf(state, ctx.me);
  const send = (value) => () => ctx.run("recording.consent", { answer: value });
  if (answer === "accepted") return null;
  if (answer === "declined") {
    return h("p", { class: "notice consent-declined", role: "status" }, t("consentDeclined"), " ", h("button", { type: "button", class: "small", onclick: send("accepted") }, t("consentChange")));
  }
  return h(
    "section",
    { class: "notice consent", role: "region", "aria-labelledby": "consent-h" },
    h("h2", { id: "consent-h" }, t("consentTitle")),
    h("p", {}, t("consentText")),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: send("accepted") }, t("consentAccept")), h("button", { type: "button", onclick: send("declined") }, t("consentDecline"))),
  );
}

// A host starts recording: first the room asks everyone (their media stops until they accept),
// then the recording starts, or is refused naming who still sends media without consent.
export async function startRecording(state, ctx) {
  if (!asking(state) && !(await ctx.run("recording.ask"))) return;
  await ctx.run("recording.start");
}
