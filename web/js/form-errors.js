// Forms whose fields show the server's problems next to them: each field box knows the API
// field it edits (`data-field`), and a problem's `errors[].field` ("proposer_ids.0") finds it.
import { ApiError } from "./api.js";
import { t } from "./i18n.js";
import { h, toast } from "./ui.js";

let counter = 0;

// A labelled input with a hint and a place for its error, tied together for screen readers.
export function fieldBox(name, label, input, hint) {
  counter += 1;
  const id = input.id || `ff-${name}-${counter}`;
  input.id = id;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field", dataset: { field: name } },
    h("label", { for: id }, label),
    input,
    hint ? h("small", { class: "muted", id: hintId }, hint) : null,
    h("small", { class: "error", id: errorId, role: "alert", hidden: true }),
  );
}

// A group of checkboxes (or other controls) with a legend and a place for its error.
export function groupBox(name, legend, ...children) {
  return h(
    "fieldset",
    { class: "people", dataset: { field: name } },
    h("legend", {}, legend),
    ...children,
    h("small", { class: "error", role: "alert", hidden: true }),
  );
}

export function clearProblems(form) {
  for (const el of form.querySelectorAll(".error")) {
    el.hidden = true;
    el.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

// Show an API error: each field error beside its field, the rest (and the summary) as a toast.
export function showProblem(form, error) {
  clearProblems(form);
  const errors = error instanceof ApiError ? error.problem.errors || [] : [];
  let placed = 0;
  for (const e of errors) {
    const name = String(e.field || "").split(".")[0];
    const box = name ? form.querySelector(`[data-field="${CSS.escape(name)}"]`) : null;
    if (!box) continue;
    const slot = box.querySelector(":scope > .error");
    slot.textContent = slot.textContent ? `${slot.textContent}；${e.message}` : e.message;
    slot.hidden = false;
    box.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
    placed += 1;
  }
  if (!placed || placed < errors.length || !errors.length) toast(error.message || t("error"));
  form.querySelector("[aria-invalid]")?.focus();
}

// Submit handler: run `action`, showing its problems on the form; returns its result.
export async function submitting(form, action) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    clearProblems(form);
    return await action();
  } catch (error) {
    showProblem(form, error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
