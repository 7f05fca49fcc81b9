// The header's links to the staff-only pages (administration, audit log), with their words.
import { addTexts, t } from "./i18n.js";

addTexts({
  "zh-CN": { navAdmin: "系统管理", navAudit: "审计日志" },
  en: { navAdmin: "Administration", navAudit: "Audit log" },
});

export function staffLinks(person) {
  return person?.role === "staff" ? [["#/admin", t("navAdmin")], ["#/audit", t("navAudit")]] : [];
}
