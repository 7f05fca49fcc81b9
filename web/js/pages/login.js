// Sign-in: username and password (checked against the organisation's directory too, when the
// server has one), and "sign in with …" the organisation's OpenID Connect provider when the
// server has one set up. The provider sends the browser back to /login/oidc?code=…&state=…,
// where this page finishes the sign-in with the server and shows any refusal in words.
import { get, post, remember } from "../api.js";
import { addTexts, setLang, t } from "../i18n.js";
import { field, h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    oidcWith: "使用{name}登录",
    oidcDefault: "单位统一身份",
    oidcOr: "或",
    oidcFinishing: "正在通过单位统一身份登录…",
    oidcLeaving: "正在前往单位统一身份认证…",
  },
  en: {
    oidcWith: "Sign in with {name}",
    oidcDefault: "your organisation's account",
    oidcOr: "or",
    oidcFinishing: "Signing you in with your organisation's account…",
    oidcLeaving: "Going to your organisation's sign-in…",
  },
});

const RETURN_PATH = "/login/oidc";

// ---------------------------------------------------------------- model

function signedIn(login) {
  remember(login);
  // The language the person chose (the switch in the header saves it) follows them here.
  if (login.person?.language) setLang(login.person.language);
  const after = sessionStorage.getItem("xs.after");
  sessionStorage.removeItem("xs.after");
  if (after && !after.includes("#/login") && !after.includes(RETURN_PATH)) location.href = after;
  else if (location.pathname !== "/") location.href = "/#/";
  else location.hash = "#/";
}

async function methods() {
  try {
    return await get("/api/auth/methods");
  } catch {
    return { oidc: null, ldap: false }; // the password form works regardless
  }
}

// What the provider sent back, read once and then taken out of the address bar (a reload must
// not post a used code again).
function providerAnswer() {
  if (location.pathname !== RETURN_PATH) return null;
  const query = new URLSearchParams(location.search);
  history.replaceState(null, "", "/#/login");
  const answer = {};
  for (const key of ["state", "code", "error", "error_description"]) {
    const value = query.get(key);
    if (value) answer[key] = value;
  }
  return answer;
}

// ---------------------------------------------------------------- view

function oidcButton(oidc, problem) {
  const name = oidc.name || t("oidcDefault");
  const button = h("button", { type: "button", class: "oidc" }, t("oidcWith", { name }));
  button.addEventListener("click", async () => {
    problem.textContent = "";
    button.disabled = true;
    button.textContent = t("oidcLeaving");
    try {
      const { url } = await post("/api/auth/oidc/start");
      location.href = url;
    } catch (error) {
      problem.textContent = error.message;
      button.disabled = false;
      button.textContent = t("oidcWith", { name });
    }
  });
  return h("div", { class: "oidc-choice" }, h("p", { class: "or muted" }, h("span", {}, t("oidcOr"))), button);
}

function passwordForm(problem) {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h(
    "form",
    {
      onsubmit: async (event) => {
        event.preventDefault();
        problem.textContent = "";
        try {
          signedIn(await post("/api/auth/login", { username: username.value, password: password.value }));
        } catch (error) {
          problem.textContent = error.message;
        }
      },
    },
    field(t("username"), username),
    field(t("password"), password),
    h("button", { type: "submit", class: "primary" }, t("signin")),
  );
  return { form, username };
}

function card(...children) {
  return h("section", { class: "card narrow signin" }, h("h1", {}, t("app"), h("small", {}, t("tagline"))), ...children);
}

export async function show(main) {
  const answer = providerAnswer();
  const problem = h("p", { class: "error", role: "alert" });
  if (answer) {
    mount(main, card(h("p", { role: "status" }, t("oidcFinishing"))));
    try {
      signedIn(await post("/api/auth/oidc/finish", answer));
      return;
    } catch (error) {
      problem.textContent = error.message;
    }
  }
  const { oidc } = await methods();
  const { form, username } = passwordForm(problem);
  mount(main, card(problem, form, oidc ? oidcButton(oidc, problem) : null));
  if (!answer) username.focus();
}
