// A poll's result and speaking times in words, the same in the room, on the hall display and in
// the minutes (server/record/document.py poll_outcome says it for the exports). Quorum: more
// than half of the eligible (应到) present (实到); thresholds count the first option (赞成): of the
// votes cast, of those present, or two thirds of the votes cast.
import { addTexts, t } from "./i18n.js";

addTexts({
  "zh-CN": {
    pwEligible: "应到", pwPresent: "实到", pwVoted: "投票", pwSecret: "无记名投票", pwNamed: "记名投票",
    pwCounts: "应到 {e} 人，实到 {p} 人，投票 {v} 人",
    pwQuorumMet: "达到法定人数（过半数应到人员出席）", pwQuorumNot: "未达到法定人数（须过半数应到人员出席）",
    pw_none: "不设通过门槛", pw_majority_of_votes: "赞成票超过投票人数的一半",
    pw_majority_of_present: "赞成票超过实到人数的一半", pw_two_thirds: "赞成票达到投票人数的三分之二",
    pwPassed: "已通过", pwNotPassed: "未通过", pwCounted: "仅计票", pwMinSec: "{m}分{s}秒",
    pwQuorumRule: "法定人数：过半数应到人员出席；第一个选项为赞成",
  },
  en: {
    pwEligible: "Eligible", pwPresent: "Present", pwVoted: "Voted", pwSecret: "Secret ballot", pwNamed: "Named ballot",
    pwCounts: "eligible {e}, present {p}, voted {v}",
    pwQuorumMet: "quorum met (more than half present)", pwQuorumNot: "quorum not met (more than half must be present)",
    pw_none: "no threshold", pw_majority_of_votes: "more than half of the votes cast in favour",
    pw_majority_of_present: "more than half of those present in favour", pw_two_thirds: "two thirds of the votes cast in favour",
    pwPassed: "passed", pwNotPassed: "not passed", pwCounted: "counted only", pwMinSec: "{m} min {s} s",
    pwQuorumRule: "Quorum: more than half of the eligible present; the first option is in favour",
  },
});

// The words of a closed poll's outcome ({eligible, present, voted, quorum_met, passed}), or "".
export function outcomeWords(poll, outcome = poll.outcome || poll) {
  if (outcome?.quorum_met == null) return "";
  const rule = t(`pw_${poll.threshold || "none"}`);
  const verdict = outcome.passed == null ? t("pwCounted") : outcome.passed ? t("pwPassed") : t("pwNotPassed");
  const parts = [
    poll.secret ? t("pwSecret") : null,
    t("pwCounts", { e: outcome.eligible, p: outcome.present, v: outcome.voted }),
    outcome.quorum_met ? t("pwQuorumMet") : t("pwQuorumNot"),
    `${rule}：${verdict}`,
  ];
  return parts.filter(Boolean).join("；");
}

export function thresholdWords(threshold) {
  return t(`pw_${threshold || "none"}`);
}

// 3分05秒 / 3 min 05 s
export function minSec(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return t("pwMinSec", { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") });
}
