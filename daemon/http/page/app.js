// otpd's status page: the tree from /api/events (Server-Sent Events), kept
// current row by row; output tails from /api/logs; actions only with the
// admin token, sent in a header and kept in this tab's sessionStorage.
"use strict";

const rows = new Map(); // path -> {tr, node, startedAt}
let token = sessionStorage.getItem("otpd-admin-token") || "";
let adminConfigured = false;
let selected = "";

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function duration(ms) {
  if (ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m" + String(s % 60).padStart(2, "0") + "s";
  const h = Math.floor(m / 60);
  if (h < 48) return h + "h" + String(m % 60).padStart(2, "0") + "m";
  return Math.floor(h / 24) + "d" + String(h % 24).padStart(2, "0") + "h";
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString();
}

function exitText(last) {
  if (!last) return "";
  if (last.signal) return last.signal + (last.core_dumped ? " (core)" : "");
  if (last.exit_status !== undefined) return "status " + last.exit_status;
  return last.reason || "";
}

function kindOf(node) {
  if (node.kind === "supervisor") return node.dynamic ? "dynamic" : node.strategy || "supervisor";
  if (node.kind === "worker") return node.worker_kind || "worker";
  return "process";
}

function notesOf(node) {
  const notes = [];
  if (node.held) notes.push("held by an operator");
  if (node.ready) notes.push("ready: " + node.ready);
  if (node.significant) notes.push("significant");
  if (node.status_text) notes.push("\u201c" + node.status_text + "\u201d");
  if (node.next_restart_at_ms) notes.push("restart at " + clock(node.next_restart_at_ms));
  if (node.health) notes.push("health: " + node.health);
  if (node.cron) notes.push("cron: " + node.cron);
  if (node.next_run_at_ms) notes.push("next run at " + clock(node.next_run_at_ms));
  if (node.kind === "supervisor" && node.intensity !== undefined) {
    notes.push("intensity " + node.intensity_used + "/" + node.intensity + " per " +
               duration(node.period_ms));
  }
  if (node.last_exit && node.last_exit.reason) notes.push("last: " + node.last_exit.reason);
  return notes.join(", ");
}

function actionButtons(td, node) {
  td.replaceChildren();
  if (node.path === "/") return;
  const running = node.state === "running" || node.state === "starting";
  for (const action of running ? ["restart", "stop"] : ["start"]) {
    const b = el("button", "action " + action, action);
    b.dataset.action = action;
    b.addEventListener("click", (e) => { e.stopPropagation(); act(action, node.path); });
    td.append(b);
  }
}

function fill(entry) {
  const { tr, node } = entry;
  const c = tr.cells;
  c[1].textContent = kindOf(node);
  c[2].textContent = node.state;
  c[2].className = "state " + node.state;
  c[3].textContent = node.pid ? node.pid : "";
  entry.startedAt = node.uptime_ms != null ? Date.now() - node.uptime_ms : null;
  c[4].textContent = entry.startedAt != null ? duration(Date.now() - entry.startedAt) : "";
  c[5].textContent = node.restarts != null ? node.restarts : "";
  c[6].textContent = node.last_exit_at_ms
    ? exitText(node.last_exit) + " at " + clock(node.last_exit_at_ms) : exitText(node.last_exit);
  c[7].textContent = notesOf(node);
  actionButtons(c[8], node);
  tr.dataset.state = node.state;
  tr.dataset.pid = node.pid || "";
}

function addRow(tbody, node, depth) {
  const tr = el("tr", node.kind);
  tr.dataset.path = node.path;
  const name = el("td", "name", node.path === "/" ? "/" : node.name);
  name.style.paddingLeft = 0.6 + depth * 1.4 + "em";
  tr.append(name, el("td", "kind"), el("td", "state"), el("td", "pid"), el("td", "uptime"),
            el("td", "restarts"), el("td", "exit"), el("td", "notes"), el("td", "actions"));
  if (node.kind !== "supervisor") tr.addEventListener("click", () => showOutput(node.path));
  if (node.path === selected) tr.classList.add("selected");
  tbody.append(tr);
  const entry = { tr, node };
  rows.set(node.path, entry);
  fill(entry);
  for (const child of node.children || []) addRow(tbody, child, depth + 1);
}

function renderTree(root) {
  const tbody = $("tree").tBodies[0];
  const fresh = document.createElement("tbody");
  rows.clear();
  addRow(fresh, root, 0);
  tbody.replaceWith(fresh);
  checkReady();
}

function updateNode(node) {
  const entry = rows.get(node.path);
  if (!entry) { // a child this page has not seen: draw the tree again
    fetch("/api/tree").then((r) => r.json()).then(renderTree).catch(() => {});
    return;
  }
  entry.node = Object.assign({}, node, { children: entry.node.children });
  fill(entry);
  entry.tr.classList.remove("flash");
  void entry.tr.offsetWidth; // restart the animation
  entry.tr.classList.add("flash");
  checkReady();
}

function addEvent(event) {
  const list = $("event-list");
  const text = [event.time ? event.time.substring(11, 23) : "", event.event, event.path,
                event.pid ? "pid " + event.pid : "", event.reason || ""].join(" ");
  list.prepend(el("li", "", text));
  while (list.children.length > 100) list.lastChild.remove();
  if (event.path === selected && (event.event === "exited" || event.event === "started")) {
    showOutput(selected);
  }
}

let readyTimer = 0;
function checkReady() {
  if (readyTimer) return;
  readyTimer = setTimeout(() => {
    readyTimer = 0;
    fetch("/readyz").then(async (r) => {
      const badge = $("ready");
      badge.textContent = r.ok ? "ready" : (await r.text()).trim();
      badge.title = badge.textContent;
      badge.className = "ready " + (r.ok ? "yes" : "no");
    }).catch(() => {});
  }, 300);
}

function showOutput(path) {
  selected = path;
  for (const [p, entry] of rows) entry.tr.classList.toggle("selected", p === path);
  $("output").hidden = false;
  $("output-path").textContent = path;
  fetch("/api/logs?lines=50&path=" + encodeURIComponent(path)).then(async (r) => {
    const pre = $("output-lines");
    if (!r.ok) { pre.textContent = (await r.text()).trim(); return; }
    const body = await r.json();
    pre.replaceChildren();
    for (const line of body.lines) {
      pre.append(el("span", line.stream === "stderr" ? "err" : "", line.line + "\n"));
    }
    if (!body.lines.length) pre.textContent = "(no output kept; output: " + body.output + ")";
    pre.scrollTop = pre.scrollHeight;
  }).catch(() => {});
}

function setAdmin(on) {
  document.body.classList.toggle("admin", on);
  $("token").hidden = on;
  $("unlock").hidden = on;
  $("lock").hidden = !on;
  $("admin-note").textContent = on ? "actions unlocked" : "";
}

async function unlock(candidate) {
  const r = await fetch("/api/login", { method: "POST",
    headers: { Authorization: "Bearer " + candidate } });
  if (r.ok) {
    token = candidate;
    sessionStorage.setItem("otpd-admin-token", token);
    setAdmin(true);
  } else {
    token = "";
    sessionStorage.removeItem("otpd-admin-token");
    setAdmin(false);
    $("admin-note").textContent = (await r.text()).trim();
  }
}

async function act(action, path) {
  const r = await fetch("/api/action/" + action + "?path=" + encodeURIComponent(path), {
    method: "POST", headers: { Authorization: "Bearer " + token } });
  if (!r.ok) $("admin-note").textContent = action + " " + path + ": " + (await r.text()).trim();
  if (r.status === 401) setAdmin(false);
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    $("link").textContent = "live";
    $("link").className = "link up";
  });
  source.addEventListener("error", () => {
    $("link").textContent = "reconnecting";
    $("link").className = "link down";
  });
  source.addEventListener("tree", (m) => renderTree(JSON.parse(m.data)));
  source.addEventListener("node", (m) => updateNode(JSON.parse(m.data)));
  source.addEventListener("event", (m) => addEvent(JSON.parse(m.data)));
}

function start() {
  fetch("/api/info").then((r) => r.json()).then((info) => {
    $("version").textContent = "otpd " + info.version;
    adminConfigured = info.admin;
    $("admin").hidden = !adminConfigured;
    if (adminConfigured && token) unlock(token);
  }).catch(() => {});
  $("admin").addEventListener("submit", (e) => { e.preventDefault(); unlock($("token").value); });
  $("lock").addEventListener("click", () => {
    token = "";
    sessionStorage.removeItem("otpd-admin-token");
    setAdmin(false);
  });
  $("output-refresh").addEventListener("click", () => showOutput(selected));
  $("output-close").addEventListener("click", () => {
    selected = "";
    $("output").hidden = true;
  });
  setInterval(() => {
    const now = Date.now();
    for (const entry of rows.values()) {
      if (entry.startedAt != null) entry.tr.cells[4].textContent = duration(now - entry.startedAt);
    }
  }, 1000);
  connect();
}

start();
