// The asyncprime console: reads /console/api/stats every second and draws
// it; actions are POSTs with a single-use token, each confirmed first.
"use strict";

const $ = (id) => document.getElementById(id);
const api = (path) => "api/" + path;
let lastDeadTotal = -1;
let deadReload = false; // an action ran: reload the dead letters at the next refresh
let pending = null; // the action awaiting confirmation
let inspected = null; // the task the inspector reads again at each refresh
let shownTask = null; // the task whose record the inspector shows
let inspectSeq = 0; // the latest inspection: an older answer is dropped
const deadShown = 20; // dead letters listed
// The dead-letter list is reloaded at each refresh while it lists any, one
// load at a time; on SQS (backend aws) each look is a ReceiveMessage that
// hides the messages for a moment, so there it is reloaded when the count
// changes or every awsDeadEvery refreshes. It is redrawn only when the
// letters listed change, so that a body opened stays open.
const awsDeadEvery = 10;
let deadKey = null, deadLoading = false, deadAgain = false, deadStale = 0;
let deadHeld = null; // the dead letters loaded and not drawn yet: {msgs, total}
const excerptChars = 200; // of a dead letter's body, shown before "…"
// A notice of success clears itself after noticeClearAfter ms; an error
// stays until it is closed or replaced. Its text is written liveDelay ms
// after the notice is shown, so that a screen reader, which speaks of
// changes in a live region it knows, knows it by then.
let noticeClearAfter = 10000, noticeTimer = 0, noticeShownAt = 0;
const liveDelay = 100;

// Polling: one request at a time, every second while the server answers;
// while it does not, the waits double up to maxWait, so that a stopped
// server gets a request now and then, not one a second. Meanwhile the page
// is offline: it says so in a banner, dims what it shows, and offers no
// action.
const every = 1000, maxWait = 10000, statsTimeout = 10000;
let failedPolls = 0, pollTimer = 0, polling = false;
let retryAt = 0, countdownTimer = 0; // the next poll while offline, counted down
let offline = false, lastAnswer = null;

// The rows of the recent tasks and failures, by task id: a refresh updates
// them in place, so that a link or a button keeps the focus, and a click
// lands, across refreshes.
const recentRows = new Map(), failureItems = new Map();
// holds: the recent tasks and the failures, each a list held still while
// the operator is in it (see hold).
const holds = {};
// retried maps a task retried from this page to the updated_at of the
// failure retried: its Retry button stays disabled while that failure is
// listed (a refresh under way may still list it).
const retried = new Map();

// setText changes e's text only when it differs: a live region speaks
// only of a change, and a selection survives a refresh.
function setText(e, v) {
  v = String(v);
  if (e.textContent !== v) e.textContent = v;
}

function text(id, v) { setText($(id), v); }

function setAttr(e, name, v) {
  if (e.getAttribute(name) !== v) e.setAttribute(name, v);
}

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

// shortId is the part of an id that tells ids apart: task ids are UUID v7,
// whose first characters are the time and repeat across a burst, so it
// shows the random end.
function shortId(id) { return id.length > 8 ? "\u2026" + id.slice(-8) : id; }

// taskLink links to #id: a click there inspects the task (hashchange), or
// inspects it again if the address already names it. A click that opens
// a new tab or window is the browser's.
function taskLink(id) {
  const a = el("a", { href: "#" + id, textContent: shortId(id), title: id });
  a.addEventListener("click", (ev) => {
    if (ev.button !== 0 || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey) return;
    if (location.hash === "#" + id) {
      ev.preventDefault();
      showTask(id);
    }
  });
  return a;
}

// A task's "number" is a JSON number with every digit submitted (up to
// 1000): JSON.parse would round it beyond 2^53, and make Infinity (shown as
// null) of a long one. The inspector reads it as a string, and shows it
// unquoted.
const numberIn = /"number":(-?\d+)/g, numberOut = /"number": "(-?\d+)"/g;

// request is fetch, with its failures said plainly: a fetch that gets no
// answer at all (fetch's TypeError, "Failed to fetch") is an error whose
// unreachable is true.
async function request(path, options) {
  try {
    return await fetch(api(path), options);
  } catch (e) {
    const err = new Error(e.name === "TimeoutError" ? "no answer from the server within " + statsTimeout / 1000 + " s" : "the server is not reachable");
    err.unreachable = true;
    throw err;
  }
}

async function getJSON(path, timeout) {
  const r = await request(path, { headers: { Accept: "application/json" }, signal: timeout ? AbortSignal.timeout(timeout) : undefined });
  const body = await r.text().then((s) => JSON.parse(s.replace(numberIn, '"number":"$1"')))
    .catch(() => ({ error: "not JSON (HTTP " + r.status + ")" }));
  if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
  return body;
}

// notice reports an action's outcome at the top of the page. A notice
// hidden is shown empty first, its text written liveDelay ms later.
function notice(msg, isError) {
  clearTimeout(noticeTimer);
  const n = $("notice");
  if (n.hidden) {
    $("notice-text").textContent = "";
    n.hidden = false;
    noticeShownAt = performance.now();
  }
  n.className = isError ? "error" : "";
  noticeTimer = setTimeout(() => {
    $("notice-text").textContent = msg;
    if (!isError) noticeTimer = setTimeout(dismissNotice, noticeClearAfter);
  }, Math.max(0, noticeShownAt + liveDelay - performance.now()));
}

function dismissNotice() {
  clearTimeout(noticeTimer);
  $("notice").hidden = true;
}

// poll refreshes the page, then schedules the next refresh, unless the
// page is hidden (another tab, a minimised window): it polls again, at once,
// when it is shown. A poll asked for while one is under way is dropped:
// that one schedules the next.
async function poll() {
  if (polling) return;
  polling = true;
  clearTimeout(pollTimer);
  let ok;
  try {
    ok = await refresh();
  } finally {
    polling = false;
  }
  if (document.hidden) return;
  failedPolls = ok ? 0 : failedPolls + 1;
  const wait = ok ? every : Math.min(every * 2 ** failedPolls, maxWait);
  clearTimeout(pollTimer);
  pollTimer = setTimeout(poll, wait);
  clearInterval(countdownTimer);
  if (!ok) {
    text("live", "disconnected");
    retryAt = performance.now() + wait;
    countdown();
    countdownTimer = setInterval(countdown, 1000);
  } else text("retry-in", "");
}

// countdown says when the next poll is, in whole seconds, outside the live
// region: a screen reader hears the connection's changes, not a count.
function countdown() {
  const s = Math.max(1, Math.round((retryAt - performance.now()) / 1000));
  text("retry-in", ", retrying in " + s + " s");
  text("offline-text", offlineText() + "; retrying in " + s + " s.");
}

// setOffline says whether the server answered the last refresh, and turns
// the actions off while it did not.
function setOffline(off) {
  $("live").className = off ? "live off" : "live on";
  if (off === offline) return;
  offline = off;
  document.body.classList.toggle("offline", off);
  if (off) text("offline-text", offlineText() + ".");
  else clearInterval(countdownTimer);
  // The banner hidden with its "Try now" focused hands the focus to the
  // connection's status.
  const handOver = !off && $("offline").contains(document.activeElement);
  $("offline").hidden = !off;
  if (handOver) $("live").focus();
  enableActions();
}

function offlineText() {
  return "The server is not reachable" + (lastAnswer ? ": what the page shows is from " + lastAnswer.toLocaleTimeString() : "") + ". Actions are off until it answers";
}

// enableActions enables each action the page offers when it may run: the
// server answers, and there is something to act on.
function enableActions() {
  // A button disabled while it has the focus would drop it to the page:
  // the dead-letter heading takes it.
  const deadOff = offline || lastDeadTotal <= 0;
  if (deadOff && [$("btn-redrive"), $("btn-purge")].includes(document.activeElement)) $("dead-heading").focus();
  $("btn-redrive").disabled = $("btn-purge").disabled = deadOff;
  $("inspect-retry").disabled = offline;
  for (const li of failureItems.values()) {
    const b = li.querySelector("button.retry");
    const off = offline || retried.get(li.dataset.task) === li.dataset.updated;
    if (off && b === document.activeElement) $("failures-heading").focus(); // a disabled button loses it anyway
    b.disabled = off;
  }
}

// refresh draws the stats once; it reports whether the server answered.
async function refresh() {
  let s;
  try {
    s = await getJSON("stats", statsTimeout);
  } catch (e) {
    setOffline(true);
    return false;
  }
  lastAnswer = new Date();
  text("live", "live");
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
  const probs = Object.entries(s.errors || {}).map(([k, v]) => k + ": " + v);
  $("problems").hidden = probs.length === 0;
  text("problems", probs.join(" · "));

  const t = s.since_start.totals;
  for (const k of ["submitted", "pending", "running", "succeeded", "failed", "retried", "revoked"]) text("total-" + k, t[k]);
  $("failed-total").classList.toggle("bad", t.failed > 0);
  chart(s.since_start.rates);
  recent(s.since_start.recent);
  failures(s.since_start.failures);
  const deadChanged = deadTotal !== lastDeadTotal || deadReload;
  deadReload = false;
  lastDeadTotal = deadTotal;
  setOffline(false);
  enableActions();
  deadStale++;
  if (deadChanged) deadLetters(true);
  else if (deadTotal > 0 && deadStale >= (s.backend === "aws" ? awsDeadEvery : 1)) deadLetters(false);
  if (inspected) inspect(inspected, true);
  return true;
}

// chart draws the last five minutes: completions, then submissions over
// them, dashed, so that both show where they are equal.
function chart(r) {
  const svg = $("chart"), W = 900, H = 180, pad = 6;
  const n = r.submitted.length;
  const peak = Math.max(0, ...r.submitted, ...r.completed);
  const top = Math.max(1, peak); // the scale: an idle chart is a flat line
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
  for (const [name, vals, color, dash] of [["completed", r.completed, "#1f8a4c", ""], ["submitted", r.submitted, "#2f6fde", "6 4"]]) {
    const p = document.createElementNS(ns, "path");
    p.setAttribute("class", name);
    p.setAttribute("d", path(vals));
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", color);
    p.setAttribute("stroke-width", "2");
    if (dash) p.setAttribute("stroke-dasharray", dash);
    p.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(p);
  }
  text("chart-max", peak > 0 ? "peak " + peak + "/s" : "idle");
}

// place makes nodes the children of parent, in order, moving only those
// out of place, and never the one that holds the focus (moving it would
// drop the focus): the others move around it. A child removed while it
// holds the focus hands it to fallback.
function place(parent, nodes, fallback) {
  const keep = new Set(nodes);
  for (const c of Array.from(parent.children)) {
    if (keep.has(c)) continue;
    const focused = c.contains(document.activeElement);
    c.remove();
    if (focused) fallback.focus();
  }
  const fixed = nodes.find((n) => n.contains(document.activeElement));
  let ref = parent.firstElementChild; // the children before it are placed
  for (const n of nodes) {
    if (n === fixed) ref = n.nextElementSibling;
    else if (n === ref) ref = ref.nextElementSibling;
    else parent.insertBefore(n, ref);
  }
}

// forget drops the entries of m whose task is no longer shown.
function forget(m, shown) {
  for (const id of m.keys()) if (!shown.has(id)) m.delete(id);
}

// hold sets up the list in element name+"-box" to hold still while the
// pointer is over it or the focus is in it: a refresh then updates the
// rows shown in place, but none comes in, moves or leaves, so that a slow
// click lands on the row it was aimed at and Tab goes from row to row. A
// button in the box says how many rows wait, and shows them; the list
// resumes by itself once pointer and focus have both left. draw(rows,
// held) draws the list and returns the number of rows waiting; released,
// if any, is called when the list lets go (what is above it in its panel
// holds with it).
function hold(name, noun, draw, released) {
  const h = { box: $(name + "-box"), button: $(name + "-held"), live: $(name + "-held-live"), noun, draw, released, rows: null, pointer: false, once: false, announced: 0 };
  h.redraw = () => {
    if (h.rows) show(h, h.rows);
    if (!isHeld(h) && h.released) h.released();
  };
  h.box.addEventListener("mouseenter", () => { h.pointer = true; });
  h.box.addEventListener("mouseleave", () => { h.pointer = false; h.redraw(); });
  h.box.addEventListener("focusout", (ev) => { if (!h.box.contains(ev.relatedTarget)) h.redraw(); });
  h.button.addEventListener("click", () => {
    h.once = true;
    h.redraw();
    const first = h.box.querySelector("tbody a, li a");
    (first || $(name + "-heading")).focus();
  });
  holds[name] = h;
}

function isHeld(h) {
  return !h.once && (h.pointer || h.box.contains(document.activeElement));
}

// show draws rows in h's list, held or not, and says what waits. The
// count waiting is spoken when rows start to wait, then at most every
// heldSpeakEvery ms, so that a busy system does not chatter.
const heldSpeakEvery = 10000;
function show(h, rows) {
  h.rows = rows;
  const waiting = h.draw(rows, isHeld(h));
  h.once = false;
  setText(h.button, waiting + " new \u2014 show");
  h.button.setAttribute("aria-label", "show " + waiting + " new " + h.noun);
  h.button.hidden = waiting === 0;
  if (waiting === 0) {
    h.announced = 0;
    setText(h.live, "");
  } else if (!h.announced || performance.now() - h.announced >= heldSpeakEvery) {
    h.announced = performance.now();
    setText(h.live, waiting + " new " + h.noun + " held while you are in the list");
  }
}

// keep draws a list, held or not: made gives the element of a row
// (creating it), fill writes a row into it. Held, the elements shown stay,
// in their order, each filled from its row if still listed, but those
// gone lets go of the ones it names; else the rows' elements are placed
// in order. It returns the number of rows not shown.
function keep(parent, rows, byID, made, fill, held, fallback, gone) {
  const listed = new Map(rows.map((r) => [r.task_id, r]));
  let nodes;
  if (held && parent.children.length > 0) { // an empty list has no row to aim at
    nodes = Array.from(parent.children).filter((n) => listed.has(n.dataset.task) || !gone(n.dataset.task));
    for (const n of nodes) if (listed.has(n.dataset.task)) fill(n, listed.get(n.dataset.task));
  } else {
    nodes = rows.map((r) => {
      const n = made(r);
      fill(n, r);
      return n;
    });
  }
  place(parent, nodes, fallback);
  const shown = new Set(nodes.map((n) => n.dataset.task));
  for (const id of byID.keys()) if (!shown.has(id)) byID.delete(id);
  return rows.filter((r) => !shown.has(r.task_id)).length;
}

function recent(rows) { show(holds.recent, rows); }

function drawRecent(rows, held) {
  const made = (r) => {
    let tr = recentRows.get(r.task_id);
    if (!tr) {
      tr = el("tr", { id: "task-" + r.task_id },
        el("td", { className: "id" }, taskLink(r.task_id)),
        el("td", { className: "mono num" }),
        el("td", {}, el("span", { className: "state" }), el("span", { className: "verdict" })),
        el("td", { className: "opt" }),
        el("td", { className: "opt" }));
      tr.dataset.task = r.task_id;
      recentRows.set(r.task_id, tr);
    }
    return tr;
  };
  const fill = (tr, r) => {
    const [, num, state, tries, took] = tr.cells;
    setText(num, r.number);
    setAttr(num, "title", r.number ? r.digits + " digits" : "");
    const [badge, verdict] = state.children;
    setAttr(badge, "class", "state " + r.status);
    setText(badge, r.status);
    setText(verdict, r.is_prime == null ? "" : (r.is_prime ? " prime" : " not prime"));
    setText(tries, r.attempts);
    setText(took, duration(r.time_to_result_seconds));
  };
  const waiting = keep($("recent").tBodies[0], rows, recentRows, made, fill, held, $("recent-heading"), () => false);
  $("recent-empty").hidden = recentRows.size > 0;
  return waiting;
}

function failures(rows) {
  show(holds.failures, rows);
  if (!isHeld(holds.failures)) drawDead();
}

// drawFailures draws the failures; held, a failure retried from this page
// leaves it all the same, as the operator's own doing.
function drawFailures(rows, held) {
  const made = (r) => {
    let li = failureItems.get(r.task_id);
    if (!li) {
      const b = el("button", { type: "button", className: "retry", textContent: "Retry" });
      b.dataset.task = r.task_id;
      b.setAttribute("aria-label", "Retry task " + r.task_id);
      b.addEventListener("click", () => confirmAction("retry", "Run task " + r.task_id + " again? It goes back to PENDING and is queued; whoever polls it sees the new result.", r.task_id));
      li = el("li", { className: "failure" }, taskLink(r.task_id), el("span", { className: "mono num" }),
        el("span", { className: "when" }), b, el("span", { className: "err" }));
      li.dataset.task = r.task_id;
      failureItems.set(r.task_id, li);
    }
    return li;
  };
  const fill = (li, r) => {
    const [, num, when, , err] = li.children;
    li.dataset.updated = r.updated_at;
    setText(num, r.number);
    setText(when, new Date(r.updated_at).toLocaleTimeString());
    setText(err, r.error || "failed");
  };
  const waiting = keep($("failures"), rows, failureItems, made, fill, held, $("failures-heading"), (id) => retried.has(id));
  forget(retried, failureItems);
  $("failures-empty").hidden = failureItems.size > 0;
  return waiting;
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
    // Above the failures, the list holds still with them.
    deadHeld = { msgs, total };
    if (!isHeld(holds.failures)) drawDead();
  } finally {
    deadLoading = false;
    if (deadAgain) {
      deadAgain = false;
      deadLetters(true);
    }
  }
}

// drawDead draws the dead letters last loaded, if not drawn yet.
function drawDead() {
  if (!deadHeld) return;
  const { msgs, total } = deadHeld;
  deadHeld = null;
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
  let sent = false;
  try {
    const tok = await getJSON("token");
    sent = true;
    const r = await request("actions/" + action, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token: tok.token, task_id: taskID }),
    });
    const body = await r.json().catch(() => ({ error: "HTTP " + r.status }));
    if (!r.ok) throw new Error(body.error || "HTTP " + r.status);
    notice(body.message, false);
    if (action === "retry") {
      const li = failureItems.get(taskID);
      if (li) retried.set(taskID, li.dataset.updated);
      enableActions();
      if (shownTask === taskID) inspect(taskID, true);
    }
  } catch (e) {
    if (!e.unreachable) notice(action + ": " + e.message, true);
    else if (!sent) notice(action + " not sent: " + e.message + "; try again once the page is live", true);
    else notice(action + ": no answer, " + e.message + ": the " + action + " may or may not have run; look again once the page is live", true);
  }
  deadReload = true;
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
  // A task not final is read again at each refresh; so is one the server
  // did not answer for, so that the error goes once it answers.
  inspected = (t && (t.status === "PENDING" || t.status === "STARTED")) || (err && err.unreachable) ? id : null;
  shownTask = t ? id : null;
  inspectResult(err ? err.message : JSON.stringify(t, null, 2).replace(numberOut, '"number": $1'), !!err, !!t && t.status === "FAILURE");
}

// inspectResult shows what the inspector found, and offers a retry of a
// FAILURE task. The retry button hidden (after a retry) hands the focus to
// the result if it held it, or if the focus was lost meanwhile.
function inspectResult(msg, isError, canRetry) {
  $("inspect-json").classList.toggle("error", isError);
  text("inspect-json", msg);
  const b = $("inspect-retry");
  const handOver = !b.hidden && !canRetry && (b === document.activeElement || document.activeElement === document.body);
  b.hidden = !canRetry;
  if (handOver) $("inspect-json").focus();
}

// showTask inspects task id, and takes the operator there: the inspector
// scrolls into view, its result focused.
function showTask(id) {
  inspect(id);
  $("inspector").scrollIntoView({ block: "start" });
  $("inspect-json").focus({ preventScroll: true });
}

document.addEventListener("DOMContentLoaded", () => {
  hold("recent", "tasks", drawRecent);
  hold("failures", "failures", drawFailures, drawDead);
  $("btn-redrive").addEventListener("click", () => confirmAction("redrive", "Move all " + lastDeadTotal + " dead letters back to the task queue? The worker will try them again."));
  $("btn-purge").addEventListener("click", () => confirmAction("purge", "Delete all " + lastDeadTotal + " dead letters for good? This cannot be undone."));
  $("confirm").addEventListener("close", () => {
    const p = pending;
    pending = null;
    if (p && $("confirm").returnValue === "ok") runAction(p.action, p.taskID);
  });
  $("inspect-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const id = $("inspect-id").value.trim();
    if (id) {
      // The address names the task inspected (and the back button goes
      // to the one before); no hashchange, so no jump to the result.
      if (location.hash !== "#" + id) history.pushState(null, "", "#" + id);
      inspect(id);
      return;
    }
    // Spaces pass "required": say what is missing, and drop any answer
    // still to come.
    inspectSeq++;
    inspected = shownTask = null;
    $("inspect-out").hidden = false;
    inspectResult("enter a task id: a UUID, as the task links show in full when hovered", true, false);
  });
  // Retry acts on the task shown, whatever the box says meanwhile.
  $("inspect-retry").addEventListener("click", () => {
    const id = shownTask;
    if (!id) return;
    confirmAction("retry", "Run task " + id + " again? It goes back to PENDING and is queued.", id);
  });
  // The task id after # is inspected: at load, once the page is drawn (so
  // that the inspector is where it stays), and when it changes.
  window.addEventListener("hashchange", () => { if (location.hash.length > 1) showTask(location.hash.slice(1)); });
  // The API that takes submissions is the one serving the console, a
  // level up from it (the local mode serves both).
  text("submit-hint", "curl -X POST " + new URL("../", location.href).href + " -H 'Content-Type: application/json' -d '{\"number\": 11}'");
  // An operator coming back to a disconnected page need not wait.
  window.addEventListener("focus", () => { if (failedPolls > 0 && !document.hidden) poll(); });
  $("offline-retry").addEventListener("click", () => poll());
  // A hidden page asks nothing; shown again, it is brought up to date at once.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) clearTimeout(pollTimer);
    else poll();
  });
  $("notice-close").addEventListener("click", dismissNotice);
  poll().then(() => { if (location.hash.length > 1) showTask(location.hash.slice(1)); });
});
