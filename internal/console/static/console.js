// The asyncprime console: reads /console/api/stats every second and draws
// it; actions are POSTs with a single-use token, each confirmed first.
"use strict";

const $ = (id) => document.getElementById(id);
const api = (path) => "api/" + path;
let lastDeadTotal = -1;
let pending = null; // the action awaiting confirmation

function text(id, v) { $(id).textContent = v; }

function age(seconds) {
  if (seconds == null) return "–";
  if (seconds < 1) return "<1 s";
  if (seconds < 90) return Math.round(seconds) + " s";
  if (seconds < 5400) return Math.round(seconds / 60) + " min";
  return (seconds / 3600).toFixed(1) + " h";
}

function duration(seconds) {
  if (seconds == null) return "";
  if (seconds < 1) return Math.round(seconds * 1000) + " ms";
  return age(seconds);
}

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c);
  return e;
}

function stateBadge(s) { return el("span", { className: "state " + s, textContent: s }); }

// shortId is the part of an id that tells ids apart: task ids are UUID v7,
// whose first characters are the time and repeat across a burst, so it
// shows the random end.
function shortId(id) { return id.length > 8 ? "\u2026" + id.slice(-8) : id; }

function taskLink(id) {
  const a = el("a", { href: "#" + id, textContent: shortId(id), title: id });
  a.addEventListener("click", (ev) => { ev.preventDefault(); inspect(id); });
  return a;
}

async function getJSON(path) {
  const r = await fetch(api(path), { headers: { Accept: "application/json" } });
  const body = await r.json().catch(() => ({ error: "not JSON (HTTP " + r.status + ")" }));
  if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
  return body;
}

function notice(msg, isError) {
  const n = $("notice");
  n.textContent = msg;
  n.className = isError ? "error" : "";
  n.hidden = false;
}

async function refresh() {
  let s;
  try {
    s = await getJSON("stats");
    $("live").className = "live on";
    $("live").textContent = "live";
  } catch (e) {
    $("live").className = "live off";
    $("live").textContent = "disconnected";
    return;
  }
  text("backend", s.backend || "local");
  text("since", new Date(s.since_start.since).toLocaleString());
  if (s.max_receive_count) text("max-receives", s.max_receive_count);
  const q = s.queue, d = s.dead_letters;
  text("queue-visible", q ? q.visible + q.delayed : "?");
  text("queue-inflight", q ? q.in_flight : "?");
  text("queue-oldest", q ? (q.oldest_age_seconds == null && s.backend === "aws" && q.visible > 0 ? "see CloudWatch" : age(q.oldest_age_seconds)) : "?");
  const deadTotal = d ? d.visible + d.in_flight + d.delayed : 0;
  text("dlq-count", d ? deadTotal : "?");
  $("dlq-card").classList.toggle("alert", deadTotal > 0);
  $("btn-redrive").disabled = $("btn-purge").disabled = deadTotal === 0;
  const probs = Object.entries(s.errors || {}).map(([k, v]) => k + ": " + v);
  $("problems").hidden = probs.length === 0;
  $("problems").textContent = probs.join(" · ");

  const t = s.since_start.totals;
  for (const k of ["submitted", "pending", "running", "succeeded", "failed", "retried"]) text("total-" + k, t[k]);
  chart(s.since_start.rates);
  recent(s.since_start.recent);
  failures(s.since_start.failures);
  if (deadTotal !== lastDeadTotal) {
    lastDeadTotal = deadTotal;
    deadLetters();
  }
}

function chart(r) {
  const svg = $("chart"), W = 900, H = 180, pad = 6;
  const n = r.submitted.length;
  const top = Math.max(1, ...r.submitted, ...r.completed);
  const x = (i) => (i / (n - 1)) * W;
  const y = (v) => H - pad - (v / top) * (H - 2 * pad);
  const path = (vals) => vals.map((v, i) => (i ? "L" : "M") + x(i).toFixed(1) + " " + y(v).toFixed(1)).join(" ");
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  for (const f of [0.25, 0.5, 0.75]) {
    const g = document.createElementNS(ns, "line");
    g.setAttribute("x1", 0); g.setAttribute("x2", W);
    g.setAttribute("y1", y(top * f)); g.setAttribute("y2", y(top * f));
    g.setAttribute("stroke", "#e6e8ec"); g.setAttribute("stroke-width", "1");
    svg.append(g);
  }
  for (const [vals, color] of [[r.submitted, "#2f6fde"], [r.completed, "#1f8a4c"]]) {
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", path(vals));
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", color);
    p.setAttribute("stroke-width", "2");
    p.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(p);
  }
  text("chart-max", "peak " + top + "/s");
}

function recent(rows) {
  const tb = $("recent").tBodies[0];
  tb.replaceChildren(...rows.map((r) => el("tr", { id: "task-" + r.task_id },
    el("td", { className: "id" }, taskLink(r.task_id)),
    el("td", { className: "mono", title: r.digits + " digits", textContent: r.number }),
    el("td", {}, stateBadge(r.status), r.is_prime == null ? "" : (r.is_prime ? " prime" : " composite")),
    el("td", { textContent: r.attempts }),
    el("td", { textContent: duration(r.time_to_result_seconds) }))));
  $("recent-empty").hidden = rows.length > 0;
}

function failures(rows) {
  $("failures").replaceChildren(...rows.map((r) => {
    const b = el("button", { type: "button", className: "retry", textContent: "Retry" });
    b.dataset.task = r.task_id;
    b.addEventListener("click", () => confirmAction("retry", "Run task " + r.task_id + " again? It goes back to PENDING and is queued; whoever polls it sees the new result.", r.task_id));
    return el("li", { className: "failure" }, taskLink(r.task_id), el("span", { className: "mono", textContent: r.number }),
      el("span", { className: "when", textContent: new Date(r.updated_at).toLocaleTimeString() }), b,
      el("span", { className: "err", textContent: r.error || "failed" }));
  }));
  $("failures-empty").hidden = rows.length > 0;
}

async function deadLetters() {
  let msgs = [];
  if (lastDeadTotal > 0) {
    try { msgs = (await getJSON("dead-letters?max=20")).messages; } catch (e) { notice("dead letters: " + e.message, true); }
  }
  $("dead-letters").replaceChildren(...msgs.map((m) => {
    const li = el("li", { className: "dead-letter" },
      m.task_id ? taskLink(m.task_id) : el("span", { className: "mono", textContent: shortId(m.message_id), title: m.message_id }),
      el("span", { className: "body", textContent: m.body }),
      el("span", { className: "when", textContent: m.sent_at && !m.sent_at.startsWith("0001") ? "sent " + new Date(m.sent_at).toLocaleTimeString() : "" }));
    li.dataset.body = m.body;
    return li;
  }));
  $("dlq-empty").hidden = msgs.length > 0 || lastDeadTotal > 0;
}

function confirmAction(action, question, taskID) {
  pending = { action, taskID };
  text("confirm-text", question);
  $("confirm").showModal();
}

async function runAction(action, taskID) {
  try {
    const tok = await getJSON("token");
    const r = await fetch(api("actions/" + action), {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token: tok.token, task_id: taskID }),
    });
    const body = await r.json().catch(() => ({ error: "HTTP " + r.status }));
    if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
    notice(body.message, false);
    if (action === "retry" && $("inspect-id").value === taskID) inspect(taskID);
  } catch (e) {
    notice(action + ": " + e.message, true);
  }
  lastDeadTotal = -1;
  refresh();
}

async function inspect(id) {
  $("inspect-id").value = id;
  $("inspect-out").hidden = false;
  try {
    const t = await getJSON("tasks/" + encodeURIComponent(id.trim()));
    text("inspect-json", JSON.stringify(t, null, 2));
    $("inspect-retry").hidden = t.status !== "FAILURE";
  } catch (e) {
    text("inspect-json", e.message);
    $("inspect-retry").hidden = true;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("btn-redrive").addEventListener("click", () => confirmAction("redrive", "Move all " + lastDeadTotal + " dead letters back to the task queue? The worker will try them again."));
  $("btn-purge").addEventListener("click", () => confirmAction("purge", "Delete all " + lastDeadTotal + " dead letters for good? This cannot be undone."));
  $("confirm").addEventListener("close", () => {
    const p = pending;
    pending = null;
    if (p && $("confirm").returnValue === "ok") runAction(p.action, p.taskID);
  });
  $("inspect-form").addEventListener("submit", (ev) => { ev.preventDefault(); inspect($("inspect-id").value.trim()); });
  $("inspect-retry").addEventListener("click", () => {
    const id = $("inspect-id").value.trim();
    confirmAction("retry", "Run task " + id + " again? It goes back to PENDING and is queued.", id);
  });
  if (location.hash.length > 1) inspect(location.hash.slice(1));
  refresh();
  setInterval(refresh, 1000);
});
