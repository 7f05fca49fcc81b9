// Administration (staff): people, units, venues and the working-day calendar, one tab each
// (#/admin/people, #/admin/units, #/admin/venues, #/admin/workdays), and the two-way
// evaluation's criteria (#/admin/evaluation).
import { addTexts, t } from "../i18n.js";
import { loadPage } from "../page.js";
import { h, mount } from "../ui.js";

addTexts({
  "zh-CN": {
    adTitle: "系统管理", adPeople: "人员", adUnits: "承办单位", adVenues: "会场", adWorkdays: "工作日历", adEvaluation: "评价指标",
    adTabs: "管理类别", adEdit: "修改", adSave: "保存", adCancel: "取消", adCreate: "新建", adSaved: "已保存",
    adName: "名称", adActions: "操作",
  },
  en: {
    adTitle: "Administration", adPeople: "People", adUnits: "Units", adVenues: "Venues", adWorkdays: "Working days", adEvaluation: "Evaluation criteria",
    adTabs: "What to administer", adEdit: "Edit", adSave: "Save", adCancel: "Cancel", adCreate: "Create", adSaved: "Saved",
    adName: "Name", adActions: "Actions",
  },
});

const TABS = {
  people: [() => import("./admin-people.js"), "adPeople"],
  units: [() => import("./admin-units.js"), "adUnits"],
  venues: [() => import("./admin-venues.js"), "adVenues"],
  workdays: [() => import("./admin-workdays.js"), "adWorkdays"],
  evaluation: [() => import("./admin-evaluation.js"), "adEvaluation"],
};

function tabs(current) {
  return h(
    "nav",
    { class: "actions tabs", "aria-label": t("adTabs") },
    Object.entries(TABS).map(([name, [, label]]) =>
      h("a", { class: `button${name === current ? " active" : ""}`, href: `#/admin/${name}`, "aria-current": name === current ? "page" : null }, t(label)),
    ),
  );
}

export async function show(main, where) {
  const current = where.params?.[0] || "people";
  const view = await TABS[current][0]();
  const body = h("div", {});
  const open = () =>
    loadPage(main, () => view.load(where.query), (data) => {
      mount(main, h("h1", {}, t("adTitle")), tabs(current), body);
      view.draw(body, data, open, Number(where.query.get("id")) || null);
    });
  await open();
}
