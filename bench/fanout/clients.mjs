#!/usr/bin/env node
// Load generator for the fan-out benchmark: many Socket.IO (or raw WebSocket) clients.
//
//   node clients.mjs '<json config>'      or      node clients.mjs @config.json
//
// Config keys (see README.md):
//   mode        "sio" (Socket.IO listeners), "ws" (raw WebSocket listeners, the floor server)
//               or "send" (Socket.IO senders: each sends chat.send as fast as acks allow)
//   url         sio/send: server URL, e.g. "http://127.0.0.1:8080"
//   namespace   sio/send: Socket.IO namespace (default "/room")
//   auths       sio/send: one auth object per client ({token, session_id})
//   auth, clients   sio/send: alternatively the same auth for `clients` clients
//   wsUrl, clients  ws: WebSocket URL and how many clients
//   deflate     offer permessage-deflate as browsers do (default true for sio/send, false for ws)
//   marker      prefix of the chat text that carries the send time in ms (default "bench:")
//   expect      bench messages each client should get; "drained" is printed when all have
//   perProcess  clients per worker process (default 250); concurrency: connects in flight per
//               worker (default 16)
//   duration    seconds: run on its own (connect, go, wait, stop) instead of reading stdin
//
// Protocol: one JSON object per line on stdout. {"phase":"ready",...} once every client has
// connected (or failed), {"phase":"drained",...} when every client got `expect` bench messages,
// {"phase":"result",...} after "stop". Lines on stdin: "go" (send mode starts sending), "stop".
//
// Latency = receive time - the send time in the message text (both from this machine's clock,
// performance.timeOrigin + performance.now(), sub-millisecond). For Socket.IO events the time
// since the server's own timestamp (event.at) is recorded too (at_latency, millisecond grain).

import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

import { io } from "socket.io-client";
import WebSocket from "ws";

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return round(sorted[i]);
}

function round(x) {
  return x === null || x === undefined ? x : Math.round(x * 100) / 100;
}

function summary(samples) {
  const sorted = Float64Array.from(samples).sort();
  let total = 0;
  for (const x of sorted) total += x;
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? round(sorted[sorted.length - 1]) : null,
    mean: sorted.length ? round(total / sorted.length) : null,
  };
}

function loadConfig(arg) {
  if (!arg) {
    process.stderr.write("usage: node clients.mjs '<json config>' | @config.json\n");
    process.exit(2);
  }
  return JSON.parse(arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg);
}

// ------------------------------------------------------------------ worker

async function worker(cfg) {
  const marker = cfg.marker ?? "bench:";
  const expect = cfg.expect ?? 0;
  const mode = cfg.mode;
  const clients = []; // {sock, got, connectMs}
  const latencies = [];
  const atLatencies = [];
  const ackLatencies = [];
  const codes = {};
  const errors = [];
  let other = 0;
  let disconnects = 0;
  let drainedSent = false;
  let running = false;
  let sent = 0;
  let accepted = 0;
  let timeouts = 0;
  let drainedClients = 0;

  const onBench = (client, text, at) => {
    const t = now();
    const sentAt = Number(text.slice(marker.length));
    latencies.push(t - sentAt);
    if (at) atLatencies.push(t - Date.parse(at));
    client.got += 1;
    if (expect && client.got === expect) {
      drainedClients += 1;
      if (!drainedSent && drainedClients === clients.length) {
        drainedSent = true;
        process.send({ type: "drained", at: t });
      }
    }
  };

  const connectSio = (auth) =>
    new Promise((resolve) => {
      const started = now();
      const client = { got: 0, sock: null, connectMs: null };
      const deflate = cfg.deflate ?? true;
      const sock = io(cfg.url + (cfg.namespace ?? "/room"), {
        transports: ["websocket"],
        auth,
        reconnection: false,
        forceNew: true,
        timeout: 60000,
        perMessageDeflate: deflate ? { threshold: 1024 } : false,
      });
      client.sock = sock;
      let done = false;
      const finish = (ok, why) => {
        if (done) return;
        done = true;
        if (ok) client.connectMs = now() - started;
        else if (errors.length < 5) errors.push(String(why));
        resolve(ok ? client : null);
      };
      // /room sends "snapshot" once the client has joined; other namespaces only connect.
      if (mode === "send" || cfg.waitFor === "connect") sock.on("connect", () => finish(true));
      sock.on("snapshot", () => finish(true));
      sock.on("connect_error", (err) => finish(false, err && err.message));
      sock.on("disconnect", (reason) => {
        if (!done) finish(false, reason);
        else if (!client.closing) disconnects += 1;
      });
      sock.on("event", (ev) => {
        const text = ev && ev.data && ev.data.text;
        if (mode !== "send" && typeof text === "string" && text.startsWith(marker)) {
          onBench(client, text, ev.at);
        } else {
          other += 1;
        }
      });
    });

  const connectWs = () =>
    new Promise((resolve) => {
      const started = now();
      const client = { got: 0, sock: null, connectMs: null };
      const sock = new WebSocket(cfg.wsUrl, { perMessageDeflate: cfg.deflate ?? false });
      client.sock = sock;
      let done = false;
      sock.on("open", () => {
        done = true;
        client.connectMs = now() - started;
        resolve(client);
      });
      sock.on("error", (err) => {
        if (!done) {
          done = true;
          if (errors.length < 5) errors.push(String(err && err.message));
          resolve(null);
        }
      });
      sock.on("close", () => {
        if (done && !client.closing) disconnects += 1;
      });
      sock.on("message", (data) => {
        const msg = JSON.parse(data.toString());
        const text = msg && msg.data && msg.data.text;
        if (typeof text === "string" && text.startsWith(marker)) onBench(client, text, null);
        else other += 1;
      });
    });

  const targets =
    mode === "ws"
      ? Array.from({ length: cfg.clients }, () => null)
      : cfg.auths ?? Array.from({ length: cfg.clients }, () => cfg.auth);
  const concurrency = cfg.concurrency ?? 16;
  let next = 0;
  let failed = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, targets.length) }, async () => {
      while (next < targets.length) {
        const target = targets[next++];
        const client = mode === "ws" ? await connectWs() : await connectSio(target);
        if (client) clients.push(client);
        else failed += 1;
      }
    }),
  );
  process.send({
    type: "ready",
    connected: clients.length,
    failed,
    wallMs: now() - t0,
    connectMs: clients.map((c) => c.connectMs),
    errors,
  });

  const sendLoop = async (client) => {
    const backoff = cfg.backoffMs ?? 100;
    while (running) {
      const t = now();
      let reply;
      sent += 1;
      try {
        reply = await client.sock
          .timeout(cfg.ackTimeoutMs ?? 10000)
          .emitWithAck("command", { type: "chat.send", data: { text: `${marker}${t.toFixed(3)}` } });
      } catch {
        timeouts += 1;
        continue;
      }
      if (reply && reply.ok) {
        accepted += 1;
        ackLatencies.push(now() - t);
      } else {
        const code = (reply && reply.error && reply.error.code) || "unknown";
        codes[code] = (codes[code] ?? 0) + 1;
        if (code === "rate_limited") await sleep(backoff);
      }
    }
  };

  let loops = [];
  let goAt = null;
  process.on("message", async (msg) => {
    if (msg.type === "go" && mode === "send" && !running) {
      running = true;
      goAt = now();
      loops = clients.map((c) => sendLoop(c));
    } else if (msg.type === "stop") {
      const stopAt = now();
      running = false;
      await Promise.race([Promise.all(loops), sleep(cfg.ackTimeoutMs ?? 10000)]);
      for (const c of clients) {
        c.closing = true;
        if (mode === "ws") c.sock.terminate();
        else c.sock.disconnect();
      }
      process.send(
        {
          type: "result",
          received: latencies.length,
          other,
          disconnects,
          latencies,
          atLatencies,
          ackLatencies,
          sent,
          accepted,
          timeouts,
          codes,
          sendSeconds: goAt === null ? null : (stopAt - goAt) / 1000,
        },
        () => process.exit(0), // only once the (large) message is out
      );
    }
  });
}

// ------------------------------------------------------------------ coordinator

async function coordinator(cfg) {
  const mode = cfg.mode;
  if (!["sio", "ws", "send"].includes(mode)) throw new Error(`unknown mode ${mode}`);
  const total = mode === "ws" || !cfg.auths ? cfg.clients : cfg.auths.length;
  const perProcess = cfg.perProcess ?? 250;
  const nproc = Math.max(1, Math.ceil(total / perProcess));
  const self = fileURLToPath(import.meta.url);
  const workers = [];
  const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
  const waitAll = (type) =>
    Promise.all(workers.map((w) => new Promise((resolve) => w.waiting.set(type, resolve))));

  for (let i = 0; i < nproc; i++) {
    const lo = Math.floor((i * total) / nproc);
    const hi = Math.floor(((i + 1) * total) / nproc);
    const part = { ...cfg, clients: hi - lo };
    if (cfg.auths) part.auths = cfg.auths.slice(lo, hi);
    const child = fork(self, ["--worker"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    const w = { child, part, waiting: new Map(), msgs: {} };
    child.on("message", (msg) => {
      w.msgs[msg.type] = msg;
      const resolve = w.waiting.get(msg.type);
      if (resolve) resolve(msg);
    });
    child.on("exit", (code) => {
      if (code && !w.msgs.result) {
        process.stderr.write(`clients.mjs: worker ${i} exited with ${code}\n`);
        process.exit(1);
      }
    });
    workers.push(w);
  }
  const readyP = waitAll("ready");
  const drainedP = waitAll("drained");
  const t0 = now();
  for (const w of workers) w.child.send({ type: "start", cfg: w.part });
  const readies = await readyP;
  const connectMs = readies.flatMap((r) => r.connectMs);
  out({
    phase: "ready",
    clients: total,
    processes: nproc,
    connected: readies.reduce((a, r) => a + r.connected, 0),
    failed: readies.reduce((a, r) => a + r.failed, 0),
    connect_wall_ms: round(now() - t0),
    connect_ms: summary(connectMs),
    errors: readies.flatMap((r) => r.errors).slice(0, 5),
  });
  let goAt = null;
  if (cfg.expect) {
    drainedP.then((ds) => {
      const last = Math.max(...ds.map((d) => d.at));
      out({ phase: "drained", ms_after_go: goAt === null ? null : round(last - goAt) });
    });
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const resultP = waitAll("result");
    for (const w of workers) w.child.send({ type: "stop" });
    const results = await resultP;
    const sum = (k) => results.reduce((a, r) => a + r[k], 0);
    const codes = {};
    for (const r of results) for (const [k, v] of Object.entries(r.codes)) codes[k] = (codes[k] ?? 0) + v;
    const result = {
      phase: "result",
      mode,
      clients: total,
      processes: nproc,
      connected: readies.reduce((a, r) => a + r.connected, 0),
      connect_ms: summary(connectMs),
      received: sum("received"),
      expected: cfg.expect ? cfg.expect * readies.reduce((a, r) => a + r.connected, 0) : null,
      other_events: sum("other"),
      disconnects: sum("disconnects"),
      latency_ms: summary(results.flatMap((r) => r.latencies)),
    };
    if (mode === "sio") result.at_latency_ms = summary(results.flatMap((r) => r.atLatencies));
    if (mode === "send") {
      const seconds = Math.max(...results.map((r) => r.sendSeconds ?? 0));
      Object.assign(result, {
        sent: sum("sent"),
        accepted: sum("accepted"),
        timeouts: sum("timeouts"),
        refused: codes,
        seconds: round(seconds),
        accepted_per_s: seconds ? round(sum("accepted") / seconds) : null,
        ack_ms: summary(results.flatMap((r) => r.ackLatencies)),
      });
    }
    out(result);
    process.exit(0);
  };
  const go = () => {
    goAt = now();
    for (const w of workers) w.child.send({ type: "go" });
  };

  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (cfg.duration) {
    go();
    await sleep(cfg.duration * 1000);
    await stop();
    return;
  }
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const cmd = line.trim();
    if (cmd === "go") go();
    else if (cmd === "stop") stop();
  });
  lines.on("close", stop);
}

if (process.argv[2] === "--worker") {
  process.once("message", (msg) => {
    worker(msg.cfg).catch((err) => {
      process.stderr.write(`clients.mjs worker: ${err && err.stack}\n`);
      process.exit(1);
    });
  });
} else {
  coordinator(loadConfig(process.argv[2])).catch((err) => {
    process.stderr.write(`clients.mjs: ${err && err.stack}\n`);
    process.exit(1);
  });
}
