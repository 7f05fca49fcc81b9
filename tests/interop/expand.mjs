// Reads an iCalendar file on stdin and prints every occurrence of every UID as JSON, the way
// Thunderbird's parser (ical.js) computes them: {uid, recurrence_id, start, end, status} in UTC.
import ICAL from "ical.js";

const input = await new Promise((resolve) => {
  let data = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
});

const root = new ICAL.Component(ICAL.parse(input));
for (const tz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(tz);
}
const vevents = root.getAllSubcomponents("vevent");
const masters = vevents.filter((v) => !v.hasProperty("recurrence-id"));
const overrides = vevents.filter((v) => v.hasProperty("recurrence-id"));
const iso = (t) => t.toJSDate().toISOString().replace(".000Z", "Z");
const out = [];
const seenFloating = [];

for (const vevent of masters) {
  const event = new ICAL.Event(vevent);
  for (const ov of overrides) {
    if (ov.getFirstPropertyValue("uid") === event.uid) event.relateException(ov);
  }
  if (event.startDate.timezone === "floating") seenFloating.push(event.uid);
  const status = vevent.getFirstPropertyValue("status") || "";
  if (!event.isRecurring()) {
    out.push({ uid: event.uid, start: iso(event.startDate), end: iso(event.endDate), status });
    continue;
  }
  const it = event.iterator();
  let next;
  let n = 0;
  while ((next = it.next()) && n++ < 1000) {
    const details = event.getOccurrenceDetails(next);
    const item = details.item;
    out.push({
      uid: event.uid,
      recurrence_id: iso(details.recurrenceId),
      start: iso(details.startDate),
      end: iso(details.endDate),
      status: item.component.getFirstPropertyValue("status") || status,
    });
  }
}
console.log(JSON.stringify({ occurrences: out, floating: seenFloating, method: root.getFirstPropertyValue("method") || null }));
