// The asyncprime console: reads /console/api/stats every second and draws
// it; actions are POSTs with a single-use token, each confirmed first.
"use strict";

const $ = (id) => document.getElementById(id);
const api = (path) => "api/" + path;
let lastDeadTotal = -1;
let pending = null; // the action awaiting confirmation
let inspected = null; // the task the inspector shows, while it is not final
let inspectSeq = 0; // the latest inspection: an older answer is dropped
const deadShown = 20; // dead letters listed
// The dead-letter list is reloaded at each refresh while it lists any, one
// load at a time; on SQS (backend aws) each look is a ReceiveMessage that
// hides the messages for a moment, so there it is reloaded when the count
// changes or every awsDeadEvery refreshes. It is redrawn only when the
// letters listed change, so that a body opened stays open.
const awsDeadEvery = 10;
let deadKey = null, deadLoading = false, deadAgain = false, deadStale = 0;
const excerptChars = 200; // of a dead letter's body, shown before "…"
// A notice of success clears itself after noticeClearAfter ms; an error
// stays until it is closed or replaced.
let noticeClearAfter = 10000, noticeTimer = 0;

// Polling: one request at a time, every second while the server answers;
// while it does not, the waits double up to maxWait, so that a stopped
// server gets a request now and then, not one a second.
const every = 1000, maxWait = 10000, statsTimeout = 10000;
let failedPolls = 0, pollTimer = 0;

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

// A task's "number" is a JSON number with every digit submitted (up to
// 1000): JSON.parse would round it beyond 2^53, and make Infinity (shown as
// null) of a long one. The inspector reads it as a string, and shows it
// unquoted.
const numberIn = /"number":(-?\d+)/g, numberOut = /"number": "(-?\d+)"/g;

async function getJSON(path, timeout) {
  const r = await fetch(api(path), { headers: { Accept: "application/json" }, signal: timeout ? AbortSignal.timeout(timeout) : undefined });
  const body = await r.text().then((s) => JSON.parse(s.replace(numberIn, '"number":"$1"')))
    .catch(() => ({ error: "not JSON (HTTP " + r.status + ")" }));
  if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
  return body;
}

function notice(msg, isError) {
  clearTimeout(noticeTimer);
  const n = $("notice");
  text("notice-text", msg);
  n.className = isError ? "error" : "";
  n.hidden = false;
  if (!isError) noticeTimer = setTimeout(dismissNotice, noticeClearAfter);
}

function dismissNotice() {
  clearTimeout(noticeTimer);
  $("notice").hidden = true;
}

// poll refreshes the page, then schedules the next refresh, unless the
// page is hidden (another tab, a minimised window): it polls again, at once,
// when it is shown.
async function poll() {
  clearTimeout(pollTimer);
  const ok = await refresh();
  if (document.hidden) return;
  failedPolls = ok ? 0 : failedPolls + 1;
  const wait = ok ? every : Math.min(every * 2 ** failedPolls, maxWait);
  if (!ok) $("live").textContent = "disconnected, retrying in " + Math.round(wait / 1000) + " s";
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, wait);
}

// refresh draws the stats once; it reports whether the server answered.
async function refresh() {
  let s;
  try {
    s = await getJSON("stats", statsTimeout);
    $("live").className = "live on";
    $("live").textContent = "live";
  } catch (e) {
    $("live").className = "live off";
    $("live").textContent = "disconnected";
    return false;
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
  for (const k of ["submitted", "pending", "running", "succeeded", "failed", "retried", "revoked"]) text("total-" + k, t[k]);
  chart(s.since_start.rates);
  recent(s.since_start.recent);
  failures(s.since_start.failures);
  const deadChanged = deadTotal !== lastDeadTotal;
  lastDeadTotal = deadTotal;
  deadStale++;
  if (deadChanged) deadLetters(true);
  else if (deadTotal > 0 && deadStale >= (s.backend === "aws" ? awsDeadEvery : 1)) deadLetters(false);
  if (inspected) inspect(inspected, true);
  return true;
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
    b.setAttribute("aria-label", "Retry task " + r.task_id);
    b.addEventListener("click", () => confirmAction("retry", "Run task " + r.task_id + " again? It goes back to PENDING and is queued; whoever polls it sees the new result.", r.task_id));
    return el("li", { className: "failure" }, taskLink(r.task_id), el("span", { className: "mono", textContent: r.number }),
      el("span", { className: "when", textContent: new Date(r.updated_at).toLocaleTimeString() }), b,
      el("span", { className: "err", textContent: r.error || "failed" }));
  }));
  $("failures-empty").hidden = rows.length > 0;
}

// deadLetters reloads the dead-letter list. A load asked for while one is
// under way is dropped, unless changed (the count changed, or an action
// ran): that one follows. A reload that fails keeps the list shown, and
// says so only when changed.
async function deadLetters(changed) {
  if (deadLoading) {
    deadAgain = deadAgain || changed;
    return;
  }
  deadLoading = true;
  deadStale = 0;
  const total = lastDeadTotal;
  let msgs = [];
  try {
    if (total > 0) {
      try { msgs = (await getJSON("dead-letters?max=" + deadShown)).messages; } catch (e) {
        if (!changed) return;
        notice("dead letters: " + e.message, true);
      }
    }
    const key = msgs.map((m) => m.message_id + "@" + m.sent_at).join(" ");
    if (key !== deadKey) {
      deadKey = key;
      $("dead-letters").replaceChildren(...msgs.map((m) => {
        const li = el("li", { className: "dead-letter" },
          m.task_id ? taskLink(m.task_id) : el("span", { className: "mono", textContent: shortId(m.message_id), title: m.message_id }),
          bodyOf(m.body),
          el("span", { className: "when", textContent: m.sent_at && !m.sent_at.startsWith("0001") ? "sent " + new Date(m.sent_at).toLocaleTimeString() : "" }));
        li.dataset.body = m.body;
        return li;
      }));
    }
    $("dlq-empty").hidden = msgs.length > 0 || total > 0;
    $("dlq-more").hidden = !(total > msgs.length && msgs.length > 0);
    text("dlq-more", "Showing " + msgs.length + " of " + total + " dead letters.");
  } finally {
    deadLoading = false;
    if (deadAgain) {
      deadAgain = false;
      deadLetters(true);
    }
  }
}

// bodyOf shows a dead letter's body as text: whole when short; else its
// first excerptChars characters and its size, the whole body a click away.
function bodyOf(body) {
  if (body.length <= excerptChars) return el("span", { className: "body", textContent: body });
  let start = body.slice(0, excerptChars);
  if (/[\ud800-\udbff]$/.test(start)) start = start.slice(0, -1); // half a character
  const bytes = new TextEncoder().encode(body).length;
  return el("details", { className: "body" },
    el("summary", { textContent: start + "\u2026 (" + bytes + " bytes)" }),
    el("pre", { textContent: body }));
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

// inspect shows task id in the inspector; again is a refresh of the task
// shown, which leaves the input alone. A task not final yet is read again
// at each refresh, until it is.
async function inspect(id, again) {
  if (!again) {
    $("inspect-id").value = id;
    $("inspect-out").hidden = false;
  }
  const seq = ++inspectSeq;
  let t, err;
  try {
    t = await getJSON("tasks/" + encodeURIComponent(id.trim()));
  } catch (e) {
    err = e;
  }
  if (seq !== inspectSeq) return; // another inspection started meanwhile
  if (err && again) return; // keep what is shown; the next refresh tries again
  inspected = t && (t.status === "PENDING" || t.status === "STARTED") ? id : null;
  $("inspect-json").classList.toggle("error", !!err);
  text("inspect-json", err ? err.message : JSON.stringify(t, null, 2).replace(numberOut, '"number": $1'));
  $("inspect-retry").hidden = !t || t.status !== "FAILURE";
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
  // An operator coming back to a disconnected page need not wait.
  window.addEventListener("focus", () => { if (failedPolls > 0 && !document.hidden) poll(); });
  // A hidden page asks nothing; shown again, it is brought up to date at once.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(pollTimer);
    else poll();
  });
  $("notice-close").addEventListener("click", dismissNotice);
  poll();
});
