// Weak networks in the room: each person's switches 仅音频 (audio only) and 仅看发言人 (only the
// floor holder's video and the screen share), and the notice when the page fell back to audio
// only by itself (media.js watches the link). Both stay in place across renders: `sync` only
// sets what they show, so a focused switch keeps its focus.
import { addTexts, t } from "../i18n.js";
import { h, mount, toast } from "../ui.js";

addTexts({
  "zh-CN": {
    weakNetwork: "网络较差时", audioOnly: "仅音频", audioOnlyHint: "（只收听声音，不接收也不发送视频）",
    floorOnly: "仅看发言人", floorOnlyHint: "（只接收发言人的视频和共享屏幕）",
    weakLoss: "网络不佳（视频丢包 {percent}%），已自动切换为仅音频：声音继续，不再接收和发送视频。",
    weakBandwidth: "网络带宽不足（约 {kbps} kbit/s），已自动切换为仅音频：声音继续，不再接收和发送视频。",
    weakAudio: "网络不佳（约 {percent}% 的声音因迟到或丢失而断续），已自动切换为仅音频：声音继续，不再接收和发送视频。",
    weakLowLoss: "网络不佳（视频丢包 {percent}%），已自动改为接收低清晰度视频；若仍不佳将切换为仅音频。",
    weakLowBandwidth: "网络带宽不足（约 {kbps} kbit/s），已自动改为接收低清晰度视频；若仍不佳将切换为仅音频。",
    weakLowAudio: "网络不佳（约 {percent}% 的声音因迟到或丢失而断续），已自动改为接收低清晰度视频；若仍不佳将切换为仅音频。",
    backToVideo: "恢复视频",
    backToSharp: "恢复清晰视频",
  },
  en: {
    weakNetwork: "On a weak network", audioOnly: "Audio only", audioOnlyHint: "(sound only: no video received or sent)",
    floorOnly: "Speaker only", floorOnlyHint: "(only the floor holder's video and the shared screen)",
    weakLoss: "Weak connection ({percent} % of video packets lost): switched to audio only. Sound goes on; video is no longer received or sent.",
    weakBandwidth: "Too little bandwidth (about {kbps} kbit/s): switched to audio only. Sound goes on; video is no longer received or sent.",
    weakAudio: "Weak connection (about {percent} % of the sound came too late or not at all): switched to audio only. Sound goes on; video is no longer received or sent.",
    weakLowLoss: "Weak connection ({percent} % of video packets lost): now receiving low-resolution video. If it stays weak, the room switches to audio only.",
    weakLowBandwidth: "Too little bandwidth (about {kbps} kbit/s): now receiving low-resolution video. If it stays weak, the room switches to audio only.",
    weakLowAudio: "Weak connection (about {percent} % of the sound came too late or not at all): now receiving low-resolution video. If it stays weak, the room switches to audio only.",
    backToVideo: "Back to video",
    backToSharp: "Back to sharp video",
  },
});

function toggle(name, hint, onchange) {
  const box = h("input", { type: "checkbox", name, "aria-describedby": `${name}-hint`, onchange: () => onchange(box.checked) });
  return [box, h("label", { class: "check" }, box, t(name), h("small", { class: "muted", id: `${name}-hint` }, t(hint)))];
}

// The switches and the notice; `media` is the room's Media (null: nothing to switch).
export class WeakNetwork {
  constructor(media) {
    this.media = media;
    const set = (prefs) => media.setPrefs(prefs).catch((error) => toast(error.message));
    const [audio, audioLabel] = toggle("audioOnly", "audioOnlyHint", (on) => {
      this.clear();
      set({ audioOnly: on });
    });
    const [floor, floorLabel] = toggle("floorOnly", "floorOnlyHint", (on) => set({ floorOnly: on }));
    Object.assign(this, { audio, floor });
    this.switches = h("fieldset", { class: "choices media-prefs" }, h("legend", {}, t("weakNetwork")), audioLabel, floorLabel);
    // Present (empty) from the start: screen readers announce what is put in it later.
    this.notice = h("div", { class: "weak-notice", role: "status", "aria-live": "polite" });
    this.sync();
  }

  // The page fell back to low-resolution video (`verdict.lowered`, with simulcast) or to audio
  // only: say why, and offer the way back.
  fellBack(verdict) {
    const low = verdict.lowered === true;
    const percent = (share) => Math.round((share || 0) * 100);
    const words =
      verdict.reason === "loss"
        ? t(low ? "weakLowLoss" : "weakLoss", { percent: percent(verdict.loss) })
        : verdict.reason === "audio"
          ? t(low ? "weakLowAudio" : "weakAudio", { percent: percent(verdict.concealed) })
          : t(low ? "weakLowBandwidth" : "weakBandwidth", { kbps: Math.round((verdict.outgoing || 0) / 1000) });
    const back = h("button", { type: "button", class: "small primary", onclick: () => this.back() }, t(low ? "backToSharp" : "backToVideo"));
    mount(this.notice, h("p", { class: "notice weak" }, words, " ", back));
    this.sync();
  }

  back() {
    this.clear();
    if (this.media.lowered && !this.media.audioOnly) {
      this.media.sharpen();
      this.audio.focus();
      return;
    }
    this.media.setPrefs({ audioOnly: false }).catch((error) => toast(error.message));
    this.audio.focus(); // the button is gone; the switch it changed keeps the focus nearby
  }

  clear() {
    mount(this.notice);
  }

  sync() {
    this.audio.checked = this.media.audioOnly;
    this.floor.checked = this.media.floorOnly;
    if (!this.media.auto && !this.media.lowered) this.clear();
  }
}
