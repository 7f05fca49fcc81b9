// 督 on a proposal's page: the leader who leads it (领办) with the button a leader takes or gives
// up the lead with, the leaders' instructions (批示), and the form a leader writes one with
// (staff record a leader's written instruction, naming the leader). An instruction with an
// owner unit becomes that unit's follow-up (督办).
import { get, patch, post, session } from "../api.js";
import { actionForm, field } from "../handling.js";
import { addTexts, t } from "../i18n.js";
import { badge, dayOf, fmt, h, section } from "../ui.js";

addTexts({
  "zh-CN": {
    ldLeads: "领办领导", ldNone: "暂无领办领导", ldTake: "领办此提案", ldGiveUp: "取消领办",
    ldTaken: "您已领办此提案", ldGivenUp: "已取消领办", ldYou: "您",
    ldInstructions: "领导批示", ldNoInstructions: "暂无批示",
    ldWrite: "作出批示", ldRecord: "代领导录入批示", ldText: "批示内容", ldOwner: "责任单位（可选）",
    ldOwnerNone: "不指定（仅记录）", ldDue: "完成时限（可选）", ldDueHint: "指定责任单位后，批示即列入督办。",
    ldLeader: "批示领导", ldSend: "提交批示", ldSent: "批示已提交", ldSentFollowed: "批示已提交，并已列入督办",
    ldBy: "{leader} · {at}", ldFollowed: "已列入督办", ldOwnerOf: "责任单位：{unit}", ldDueOn: "时限：{due}",
    ldInstructionEntry: "{leader}批示：{text}",
  },
  en: {
    ldLeads: "Led by", ldNone: "No leader leads it", ldTake: "Lead this proposal", ldGiveUp: "Give up the lead",
    ldTaken: "You lead this proposal", ldGivenUp: "You no longer lead it", ldYou: "you",
    ldInstructions: "Leaders' instructions", ldNoInstructions: "No instructions yet",
    ldWrite: "Write an instruction", ldRecord: "Record a leader's instruction", ldText: "Instruction", ldOwner: "Owner unit (optional)",
    ldOwnerNone: "None (recorded only)", ldDue: "Due (optional)", ldDueHint: "With an owner unit the instruction is followed up.",
    ldLeader: "Leader", ldSend: "Send the instruction", ldSent: "Instruction sent", ldSentFollowed: "Instruction sent and followed up",
    ldBy: "{leader} · {at}", ldFollowed: "Followed up", ldOwnerOf: "Owner: {unit}", ldDueOn: "Due {due}",
    ldInstructionEntry: "{leader}'s instruction: {text}",
  },
});

// ---------------------------------------------------------------- model

// Leaders to choose from, for staff recording an instruction (others need none).
export async function loadLeaders(me = session()?.person) {
  if (me?.role !== "staff") return [];
  return (await get("/api/people?role=leader")).items;
}

const lead = (id, leaderId) => patch(`/api/proposals/${id}`, { leader_id: leaderId });
const instruct = (id, body) => post(`/api/proposals/${id}/instructions`, body);

// ---------------------------------------------------------------- view

// Who leads the proposal, and a leader's button to take or give up the lead of a key proposal.
export function leadFacts(proposal, done, me = session()?.person) {
  const mine = proposal.leader_id != null && proposal.leader_id === me?.id;
  const canTake = me?.role === "leader" && proposal.key && proposal.leader_id == null;
  const button = mine
    ? h("button", { type: "button", class: "small", onclick: () => act(() => lead(proposal.id, null), done, t("ldGivenUp")) }, t("ldGiveUp"))
    : canTake
      ? h("button", { type: "button", class: "small primary", onclick: () => act(() => lead(proposal.id, me.id), done, t("ldTaken")) }, t("ldTake"))
      : null;
  const who = proposal.leader_id == null ? h("span", { class: "muted" }, t("ldNone")) : h("span", {}, proposal.leader_name || "—", mine ? [" ", badge(t("ldYou"), "good")] : null);
  return [h("dt", {}, t("ldLeads")), h("dd", { class: "row", dataset: { lead: proposal.leader_id ?? "" } }, who, button)];
}

async function act(action, done, message) {
  try {
    await action();
    await done(message);
  } catch (error) {
    await done(error.message || t("error"));
  }
}

// The instructions, oldest first.
export function instructionList(dossier, unitName) {
  const list = dossier.instructions || [];
  return section(
    t("ldInstructions"),
    list.length
      ? h(
          "ul",
          { class: "list instructions" },
          list.map((i) =>
            h(
              "li",
              { dataset: { instruction: i.id } },
              h("p", { class: "prose" }, i.text),
              h(
                "div",
                { class: "muted" },
                t("ldBy", { leader: i.leader, at: fmt.dateTime(i.at) }),
                i.owner_unit_id != null ? ` · ${t("ldOwnerOf", { unit: unitName(i.owner_unit_id) })}` : "",
                i.due ? ` · ${t("ldDueOn", { due: i.due })}` : "",
                i.follow_up_id != null ? [" ", badge(t("ldFollowed"), "pending")] : null,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, t("ldNoInstructions")),
  );
}

// The form: text, an optional owner unit and due day; staff also name the leader.
export function instructionForm(proposal, units, leaders, done, me = session()?.person) {
  const staff = me?.role === "staff";
  if (!staff && me?.role !== "leader") return null;
  const text = h("textarea", { name: "text", rows: 4, required: true, maxlength: 5000 });
  const owner = h("select", { name: "owner_unit_id" }, h("option", { value: "" }, t("ldOwnerNone")), [...units].map(([id, name]) => h("option", { value: id }, name)));
  const due = h("input", { name: "due", type: "date", min: dayOf(new Date()) });
  const leader = staff ? h("select", { name: "leader_id", required: true }, h("option", { value: "" }, "—"), leaders.map((p) => h("option", { value: p.id }, p.name))) : null;
  return actionForm(
    t(staff ? "ldRecord" : "ldWrite"),
    [leader ? field(t("ldLeader"), leader) : null, field(t("ldText"), text), field(t("ldOwner"), owner, t("ldDueHint")), field(t("ldDue"), due)],
    t("ldSend"),
    async () => {
      const body = { text: text.value };
      if (owner.value) body.owner_unit_id = Number(owner.value);
      if (due.value) body.due = due.value;
      if (leader) body.leader_id = Number(leader.value);
      const made = await instruct(proposal.id, body);
      await done(t(made.follow_up_id != null ? "ldSentFollowed" : "ldSent"));
    },
  );
}

// An instruction's timeline entry in words.
export function instructionWords(dossier, ref, fallback) {
  const i = (dossier.instructions || []).find((x) => x.id === ref);
  return i ? t("ldInstructionEntry", { leader: i.leader, text: i.text }) : fallback;
}
