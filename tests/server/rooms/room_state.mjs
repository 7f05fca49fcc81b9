// Runs the browser's room state (web/js/room-state.js, unchanged) for test_room_state_js.py.
// One JSON line in per log: a list of cases {snapshot, events, viewer, every}; one line out: per
// case the state after every event (`every`) or only at the end, or where an event was refused.
// States are written with sorted keys, as the test writes the server's, to compare as text.
import { createInterface } from "node:readline";
import { applyEvent } from "../../../web/js/room-state.js";

// JSON with sorted keys (an object would put keys like "10" before "9", unlike Python).
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonical(v))).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

function run({ snapshot, events, viewer, every }) {
  const state = snapshot;
  const states = [];
  for (const event of events) {
    if (!applyEvent(state, event, viewer)) return { refused: event.seq, states };
    if (every) states.push(canonical(state));
  }
  return { states: every ? states : [canonical(state)] };
}

for await (const line of createInterface({ input: process.stdin })) {
  process.stdout.write(`${JSON.stringify(JSON.parse(line).map(run))}\n`);
}
