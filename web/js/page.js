// A page's life: loading, then its content or one of the states every page can end in
// (not allowed, not found, failed with a retry, signed out). app.js shows the loading state the
// moment the address changes, so no page ever shows the previous page's content while it loads;
// a page that throws while loading gets the state that fits the error.
import { ApiError, forget } from "./api.js";
import { addTexts, t } from "./i18n.js";
import { h, mount } from "./ui.js";

addTexts({
  "zh-CN": {
    stateForbidden: "您无权查看此页面", stateForbiddenHint: "该内容不在您的权限范围内。如需查看，请联系提案委员会工作人员。",
    stateNotFound: "没有找到该内容", stateNotFoundHint: "它可能不存在、已被删除，或不在您的权限范围内；也可能是链接有误。",
    stateFailed: "加载失败", stateFailedHint: "网络或服务器暂时出现问题：{detail}", retry: "重试",
    stateBack: "返回首页", stateOffline: "无法连接到服务器",
  },
  en: {
    stateForbidden: "You may not see this page", stateForbiddenHint: "It is outside what your account may see. Ask the committee's staff if you need it.",
    stateNotFound: "Nothing found here", stateNotFoundHint: "It may not exist, may have been removed or may be outside what your account may see; or the link is wrong.",
    stateFailed: "Could not load", stateFailedHint: "The network or the server has a problem: {detail}", retry: "Retry",
    stateBack: "Back to the home page", stateOffline: "Cannot reach the server",
  },
});

// Each address change gets a new ticket; a page that finishes loading after the reader moved on
// must not draw over the next page.
let ticket = 0;
export function nextTicket() {
  ticket += 1;
  return ticket;
}
export function isCurrent(mine) {
  return mine === ticket;
}

export function loadingState() {
  return h("p", { class: "muted state loading", role: "status", "aria-live": "polite" }, t("loading"));
}

function statePanel(kind, title, hint, ...actions) {
  return h(
    "section",
    { class: `card state ${kind}`, role: kind === "failed" ? "alert" : null, dataset: { state: kind } },
    h("h1", {}, title),
    hint ? h("p", { class: "muted" }, hint) : null,
    h("div", { class: "actions" }, ...actions, h("a", { class: "button", href: "#/" }, t("stateBack"))),
  );
}

export function notAllowed() {
  return statePanel("forbidden", t("stateForbidden"), t("stateForbiddenHint"));
}

export function notFound(title) {
  return statePanel("not-found", title || t("stateNotFound"), t("stateNotFoundHint"));
}

export function failed(error, retry) {
  const detail = error instanceof ApiError ? error.message : t("stateOffline");
  const again = retry ? h("button", { type: "button", class: "primary", onclick: retry }, t("retry")) : null;
  return statePanel("failed", t("stateFailed"), t("stateFailedHint", { detail }), again);
}

// Signed out (401): back to sign-in, and to this address after it.
export function toSignIn() {
  forget();
  sessionStorage.setItem("xs.after", location.href);
  if (location.pathname !== "/") location.href = "/#/login";
  else location.hash = "#/login";
}

// The state for an error met while loading a page: forbidden, not found, signed out or failed.
export function errorState(error, retry) {
  if (error instanceof ApiError) {
    if (error.status === 401) {
      toSignIn();
      return loadingState();
    }
    if (error.status === 403) return notAllowed();
    if (error.status === 404) return notFound();
  }
  return failed(error, retry);
}

// Load a page's data, then draw it; any error while loading becomes its state, and a result
// that arrives after the reader moved on is dropped. Returns what `draw` returns.
export async function loadPage(main, load, draw) {
  const mine = ticket;
  mount(main, loadingState());
  let data;
  try {
    data = await load();
  } catch (error) {
    if (isCurrent(mine)) mount(main, errorState(error, () => loadPage(main, load, draw)));
    return undefined;
  }
  if (!isCurrent(mine)) return undefined;
  return draw(data);
}
