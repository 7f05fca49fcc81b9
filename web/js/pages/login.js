import { post, remember } from "../api.js";
import { t } from "../i18n.js";
import { field, h, mount } from "../ui.js";

export function show(main) {
  const username = h("input", { name: "username", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const problem = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (event) => {
        event.preventDefault();
        problem.textContent = "";
        try {
          remember(await post("/api/auth/login", { username: username.value, password: password.value }));
          const after = sessionStorage.getItem("xs.after");
          sessionStorage.removeItem("xs.after");
          if (after && !after.includes("#/login")) location.href = after;
          else location.hash = "#/";
        } catch (error) {
          problem.textContent = error.message;
        }
      },
    },
    h("h1", {}, t("app"), h("small", {}, t("tagline"))),
    field(t("username"), username),
    field(t("password"), password),
    problem,
    h("button", { type: "submit", class: "primary" }, t("signin")),
  );
  mount(main, form);
  username.focus();
}
