// The operator page: reads and acts through /api/operator with the operator's token, nothing else.
// Only one page of sessions is ever fetched, so the page stays as fast with 100k sessions as with ten.
import { drawTimeSeries } from "./charts.js";

const tokenKey = "ogw.operatorToken";
const phases = ["idle", "running", "resume_pending", "suspended", "quarantined"];
const phaseColors = { idle: "#8b93a1", running: "#2f7de1", resume_pending: "#d98a00", suspended: "#8a4fd1", quarantined: "#d33a3a" };
const chartWindowMs = 60 * 60 * 1000; // as long as the dashboard keeps its samples of the counts
const feedLength = 300;

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const state = {
  token: null, // the operator token; null when reading anonymously
  caller: null, // { name, canAct }
  generation: 0, // bumped on sign-out: pollers of an earlier sign-in stop
  filters: { phase: "", silo: "", stale: "", limit: "50" },
  cursors: [], // the `after` cursor of every page before this one
  after: null, // this page's cursor
  selected: null, // the session shown in the detail view
  eventCursor: null, // the feed's `last`: where the next read of events starts
  lagPoints: [], // { t, v }: resume lag in seconds, from `resumed` events
  phaseSamples: [], // { t, counts }: the dashboard's samples of the counts by phase (GET .../counts/history)
  silos: [],
};

// ---- API --------------------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = "GET", token = state.token } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { method, headers, cache: "no-store" });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (response.status === 401 && token === state.token && state.caller) {
    signOut(body?.error ?? "signed out: the token is no longer accepted");
  }

  if (!response.ok) {
    throw new ApiError(response.status, body?.error ?? `${response.status} ${response.statusText}`);
  }

  return body;
}

// ---- Sign-in ----------------------------------------------------------------------------------------------------

async function init() {
  byTestId("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await signIn(byTestId("token-input").value.trim());
  });
  byTestId("read-only").addEventListener("click", () => signIn(null));
  byTestId("sign-out").addEventListener("click", () => signOut(""));
  wireFilters();
  wireDetail();
  window.addEventListener("resize", drawCharts);

  // A dashboard with AllowAnonymousReadOnly answers without a token: offer to read without one.
  fetch("/api/operator/me", { cache: "no-store" }).then((r) => (byTestId("read-only").hidden = !r.ok), () => {});

  const saved = sessionStorage.getItem(tokenKey);
  if (saved) {
    await signIn(saved);
  }
}

async function signIn(token) {
  const error = byTestId("sign-in-error");
  error.textContent = "";
  try {
    state.caller = await api("/api/operator/me", { token });
  } catch (e) {
    error.textContent = e.status === 401 ? "That token is not accepted." : `Cannot sign in: ${e.message}`;
    if (e.status === 401 && token && sessionStorage.getItem(tokenKey) === token) {
      // A saved token that is refused now (rotated, revoked) is not offered again on the next load.
      sessionStorage.removeItem(tokenKey);
    }

    return;
  }

  state.token = token;
  if (token) {
    sessionStorage.setItem(tokenKey, token);
    // The official Orleans dashboard cannot send our header: the server sets an HttpOnly cookie for /orleans/ instead.
    await fetch("/orleans/signin", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }

  byTestId("token-input").value = "";
  byTestId("sign-in-view").hidden = true;
  byTestId("main-view").hidden = false;
  for (const id of ["signed-in-as", "orleans-link", "sign-out"]) {
    byTestId(id).hidden = false;
  }

  byTestId("signed-in-as").textContent = state.caller.name ? `signed in as ${state.caller.name}` : "read-only (anonymous)";
  document.body.classList.toggle("read-only", !state.caller.canAct);
  startPolling();
}

function signOut(message) {
  state.generation++;
  state.token = null;
  state.caller = null;
  state.eventCursor = null;
  // What the charts sampled belongs to that sign-in: the next one (maybe another operator, another cluster) starts empty.
  state.lagPoints = [];
  state.phaseSamples = [];
  sessionStorage.removeItem(tokenKey);
  fetch("/orleans/signout", { method: "POST" }).catch(() => {});
  byTestId("main-view").hidden = true;
  byTestId("sign-in-view").hidden = false;
  for (const id of ["signed-in-as", "orleans-link", "sign-out"]) {
    byTestId(id).hidden = true;
  }

  byTestId("event-feed").replaceChildren();
  byTestId("sign-in-error").textContent = message;
}

// ---- Polling ----------------------------------------------------------------------------------------------------

function startPolling() {
  const generation = ++state.generation;
  const every = (ms, refresh) => {
    const loop = async () => {
      if (generation !== state.generation) {
        return;
      }

      try {
        await refresh();
      } catch {
        // Shown by the cluster indicator; the next round tries again.
      }

      setTimeout(loop, ms);
    };
    loop();
  };

  every(1000, refreshEvents);
  every(2000, refreshSilos);
  every(2000, refreshSessions);
  every(1000, refreshDetail);
  every(3000, refreshCluster);
  every(5000, refreshCountHistory); // the dashboard samples the counts every 5 s (PhaseCountHistory.Interval)
}

async function refreshCluster() {
  const indicator = byTestId("cluster-status");
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    indicator.dataset.state = response.ok ? "connected" : "disconnected";
    indicator.textContent = response.ok ? "cluster: connected" : "cluster: no silo reachable";
  } catch {
    indicator.dataset.state = "disconnected";
    indicator.textContent = "dashboard unreachable";
  }
}

// ---- Silos ------------------------------------------------------------------------------------------------------

async function refreshSilos() {
  state.silos = await api("/api/operator/silos");
  const rows = state.silos.map((silo) => {
    const active = silo.status === "Active";
    // A draining silo is still Active in the membership table, and takes no second stop: no buttons for it.
    const canStop = active && !silo.draining && state.caller?.canAct;
    const status = [badge(silo.status, silo.status)];
    if (!silo.reachable && silo.status !== "Dead") {
      status.push(" ", badge("unreachable", "unreachable"));
    }

    const actions = el("td", {},
      canStop ? el("button", { class: "small", "data-testid": "silo-drain", onclick: () => stopSilo(silo, "drain") }, "Drain") : "",
      " ",
      canStop ? el("button", { class: "small", "data-testid": "silo-restart", onclick: () => stopSilo(silo, "restart") }, "Restart") : "");
    return el("tr", { "data-testid": "silo-row", "data-address": silo.address, "data-status": silo.status, class: silo.status === "Dead" ? "dead" : null },
      el("td", {}, el("div", {}, silo.name), el("div", { class: "muted" }, silo.address)),
      el("td", { "data-testid": "silo-status" }, ...status),
      el("td", { "data-testid": "silo-draining" }, silo.draining == null ? "–" : silo.draining ? "yes" : "no"),
      el("td", { class: "num" }, silo.activeSessions ?? "–"),
      el("td", { class: "num", "data-testid": "silo-running-turns" }, silo.runningTurns ?? "–"),
      el("td", { class: "muted" }, (silo.version ?? "–").split("+")[0]),
      actions);
  });
  byTestId("silos").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no silo in the membership table")]));
  updateSiloFilter();
}

async function stopSilo(silo, action) {
  const what = action === "restart"
    ? `Restart ${silo.name} (${silo.address})? Its running sessions are premarked restart_timeout and resume after the drain; the silo exits to be started again.`
    : `Drain ${silo.name} (${silo.address})? Its running sessions are premarked shutdown_timeout and resume on the other silos; the silo then stops for good.`;
  if (!(await confirmAction(what))) {
    return;
  }

  try {
    const report = await api(`/api/operator/silos/${encodeURIComponent(silo.address)}/${action}`, { method: "POST" });
    toast(`${silo.name}: ${action} requested (draining: ${report.draining ? "yes" : "not yet"}, ${report.runningTurns} running turns)`);
  } catch (e) {
    toast(`${action} ${silo.name}: ${e.message}`, true);
  }

  refreshSilos().catch(() => {});
}

// ---- Sessions ---------------------------------------------------------------------------------------------------

function wireFilters() {
  const form = byTestId("session-filters");
  form.addEventListener("change", () => {
    for (const name of ["phase", "silo", "stale", "limit"]) {
      state.filters[name] = form.elements[name].value;
    }

    firstPage();
  });
  byTestId("page-next").addEventListener("click", () => {
    if (state.next) {
      state.cursors.push(state.after);
      state.after = state.next;
      refreshSessions().catch(() => {});
    }
  });
  byTestId("page-prev").addEventListener("click", () => {
    if (state.cursors.length) {
      state.after = state.cursors.pop();
      refreshSessions().catch(() => {});
    }
  });
}

// Sets some filters at once, in the form too, and shows the first page: { phase: "running", stale: "" }.
function setFilters(changes) {
  const form = byTestId("session-filters");
  if ("silo" in changes) {
    updateSiloFilter(changes.silo);
  }

  for (const [name, value] of Object.entries(changes)) {
    form.elements[name].value = value;
    state.filters[name] = value;
  }

  firstPage();
}

function firstPage() {
  state.cursors = [];
  state.after = null;
  refreshSessions().catch(() => {});
}

function updateSiloFilter(extra) {
  const select = byTestId("filter-silo");
  const current = extra ?? select.value;
  const addresses = new Map(state.silos.map((s) => [s.address, `${s.name} ${s.address}${s.status === "Dead" ? " (dead)" : ""}`]));
  if (current && !addresses.has(current)) {
    addresses.set(current, current);
  }

  // Rebuilt only when the options change: replacing them closes the list while the operator has it open.
  const wanted = [["", "any"], ...addresses];
  const same = select.options.length === wanted.length
    && wanted.every(([value, label], i) => select.options[i].value === value && select.options[i].textContent === label);
  if (!same) {
    select.replaceChildren(...wanted.map(([value, label]) => el("option", { value }, label)));
  }

  if (select.value !== current) {
    select.value = current;
  }
}

let sessionsRequest = 0;

async function refreshSessions() {
  const request = ++sessionsRequest;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(state.filters)) {
    if (value) {
      query.set(name, value);
    }
  }

  if (state.after) {
    query.set("after", state.after);
  }

  const page = await api(`/api/operator/sessions?${query}`);
  if (request !== sessionsRequest) {
    return; // A newer request (another page, other filters) answers for the table.
  }

  state.next = page.next;
  const rows = page.sessions.map((s) => el("tr", {
      class: `clickable${s.sessionId === state.selected ? " selected" : ""}`,
      "data-testid": "session-row",
      "data-session-id": s.sessionId,
      "data-phase": s.phase,
      onclick: () => select(s.sessionId),
    },
    el("td", { "data-testid": "session-id" }, s.sessionId),
    el("td", { "data-testid": "session-phase" }, badge(s.phase, s.phase), s.stale ? [" ", badge("stale", "stale")] : ""),
    el("td", {}, s.resumeReason ?? ""),
    el("td", {}, s.ownerSilo ? el("a", { href: "#", title: "show this silo's sessions", onclick: (e) => { e.preventDefault(); e.stopPropagation(); setFilters({ silo: s.ownerSilo }); } }, s.ownerSilo) : ""),
    el("td", { class: "num" }, s.attempts),
    el("td", { class: "num" }, formatAge(s.ageSeconds)),
    el("td", { class: "error-text", title: s.lastError ?? "" }, s.lastError ?? "")));
  byTestId("sessions").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no session matches")]));
  byTestId("page-info").textContent = `page ${state.cursors.length + 1}`;
  byTestId("page-prev").disabled = state.cursors.length === 0;
  byTestId("page-next").disabled = !page.next;
  renderCounts(page.counts);
}

function renderCounts(counts) {
  const tiles = [...phases, "stale"].map((name) => el("button", {
      type: "button",
      class: `count ${name}`,
      "data-testid": `count-${name}`,
      title: name === "stale" ? "resume_pending longer than the freshness window: never resumed automatically" : `show ${name} sessions`,
      // A tile shows its own sessions: stale ones are resume_pending, so the two filters are not combined.
      onclick: () => setFilters(name === "stale" ? { stale: "true", phase: "" } : { phase: name, stale: "" }),
    },
    el("strong", {}, (counts[name] ?? 0).toLocaleString()),
    name.replace("_", " ")));
  byTestId("phase-counts").replaceChildren(...tiles);
}

// ---- Session detail ---------------------------------------------------------------------------------------------

function wireDetail() {
  byTestId("detail-close").addEventListener("click", () => select(null));
  byTestId("action-resume").addEventListener("click", () => act("resume", "Resume now? A suspended session continues; a waiting one is resumed at once, ahead of the sweepers."));
  byTestId("action-suspend").addEventListener("click", () => act("suspend", "Suspend? Its running turn stops at its checkpoint and nothing resumes it until an operator does."));
  byTestId("action-release").addEventListener("click", () => act("release", "Release from quarantine? It is resumed with a fresh count of attempts."));
}

function select(sessionId) {
  state.selected = sessionId;
  byTestId("session-detail").hidden = !sessionId;
  for (const row of document.querySelectorAll('[data-testid="session-row"]')) {
    row.classList.toggle("selected", row.dataset.sessionId === sessionId);
  }

  if (sessionId) {
    byTestId("detail-id").textContent = sessionId;
    refreshDetail().catch(() => {});
  }
}

async function refreshDetail() {
  const sessionId = state.selected;
  if (!sessionId) {
    return;
  }

  let detail;
  try {
    detail = await api(`/api/operator/sessions/${encodeURIComponent(sessionId)}`);
  } catch (e) {
    if (e.status === 404 && state.selected === sessionId) {
      byTestId("detail-phase").replaceChildren("gone");
    }

    throw e;
  }

  if (state.selected !== sessionId) {
    return;
  }

  const s = detail.session;
  const phase = byTestId("detail-phase");
  phase.dataset.phase = s.phase;
  phase.replaceChildren(badge(s.phase, s.phase), s.stale ? [" ", badge("stale", "stale")] : "");
  byTestId("detail-reason").textContent = s.resumeReason ?? "–";
  byTestId("detail-owner").textContent = s.ownerSilo ?? "–";
  byTestId("detail-epoch").textContent = s.epoch;
  byTestId("detail-attempts").textContent = s.attempts;
  byTestId("detail-age").textContent = `${formatAge(s.ageSeconds)} ${s.phase === "resume_pending" ? "since it was marked" : "since its last change"}`;
  byTestId("detail-error").textContent = s.lastError ?? "–";

  const canAct = state.caller?.canAct;
  byTestId("action-resume").disabled = !canAct || !["suspended", "resume_pending"].includes(s.phase);
  byTestId("action-suspend").disabled = !canAct || s.phase === "suspended";
  byTestId("action-release").disabled = !canAct || s.phase !== "quarantined";

  const unavailable = byTestId("detail-turns-unavailable");
  unavailable.hidden = !s.turnsUnavailable;
  unavailable.textContent = s.turnsUnavailable ?? "";
  const turns = s.turns.map((t) => el("tr", { "data-testid": "turn-row", "data-status": t.status },
    el("td", {}, t.turnId, s.activeTurnId === t.turnId ? " ◀" : ""),
    el("td", { class: "muted" }, t.messageId),
    el("td", {}, t.status),
    el("td", {}, progress(t.stepsDone, t.stepsTotal), `${t.stepsDone}/${t.stepsTotal ?? "?"}`),
    el("td", { class: "num" }, t.executions),
    el("td", {}, t.reply ?? "")));
  byTestId("detail-turns").tBodies[0].replaceChildren(...(turns.length ? turns : [emptyRow(6, "no turns")]));
  byTestId("detail-history").replaceChildren(...detail.history.map(eventItem));
}

async function act(action, question) {
  const sessionId = state.selected;
  if (!sessionId || !(await confirmAction(`${question}\n\nSession: ${sessionId}`))) {
    return;
  }

  try {
    const result = await api(`/api/operator/sessions/${encodeURIComponent(sessionId)}/${action}`, { method: "POST" });
    toast(`${sessionId}: ${result.message}`);
  } catch (e) {
    toast(`${action} ${sessionId}: ${e.message}`, true);
  }

  refreshDetail().catch(() => {});
  refreshSessions().catch(() => {});
}

// ---- Events -----------------------------------------------------------------------------------------------------

async function refreshEvents() {
  const query = state.eventCursor == null ? "limit=100" : `after=${encodeURIComponent(state.eventCursor)}&limit=500`;
  const page = await api(`/api/operator/events?${query}`);
  state.eventCursor = page.last;
  if (page.events.length === 0) {
    return;
  }

  const feed = byTestId("event-feed");
  for (const event of page.events) {
    feed.prepend(eventItem(event));
    const lag = resumeLagSeconds(event);
    if (lag != null) {
      state.lagPoints.push({ t: Date.parse(event.at), v: lag });
    }
  }

  while (feed.children.length > feedLength) {
    feed.lastElementChild.remove();
  }

  drawCharts();
}

function eventItem(event) {
  const target = [event.sessionId, event.silo].filter(Boolean).join(" on ");
  return el("li", { "data-testid": "event", "data-kind": event.kind, "data-event-id": event.id },
    el("span", { class: "time", title: event.at }, new Date(event.at).toLocaleTimeString([], { hourCycle: "h23" })),
    el("span", { class: "kind" }, event.kind, event.actor ? el("div", { class: "muted" }, `by ${event.actor}`) : ""),
    el("span", {}, target ? el("div", { class: "muted" }, target) : "", event.detail,
      event.waitedSeconds != null ? `, waited ${formatSeconds(event.waitedSeconds)}` : ""));
}

// A `resumed` event carries how long the session waited between its marker and the claim: the resume lag.
function resumeLagSeconds(event) {
  return event.kind === "resumed" && event.waitedSeconds != null ? event.waitedSeconds : null;
}

function formatSeconds(seconds) {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : formatAge(Math.round(seconds));
}

// ---- Charts -----------------------------------------------------------------------------------------------------

// The counts over time have one producer, the dashboard's own samples of the last hour: the page only reads them, so
// the chart shows what happened before the page was opened and every tab shows the same.
async function refreshCountHistory() {
  const generation = state.generation;
  const history = await api("/api/operator/counts/history");
  if (generation !== state.generation) {
    return; // Read for a sign-in that ended.
  }

  state.phaseSamples = history.samples.map((s) => ({ t: Date.parse(s.at), counts: s.counts }));
  drawCharts();
}

function drawCharts() {
  const now = Date.now();
  // The last hour, or less when less is known: the oldest sample or resume fills the chart.
  const oldest = Math.min(now, state.phaseSamples[0]?.t ?? now, state.lagPoints[0]?.t ?? now);
  const windowMs = Math.min(chartWindowMs, Math.max(60_000, now - oldest));
  drawTimeSeries(byTestId("chart-resume-lag"), {
    series: [{ name: "resume lag", color: phaseColors.resume_pending, style: "dots", points: state.lagPoints }],
    windowMs,
    yFormat: (v) => `${+v.toFixed(1)} s`,
    emptyText: "no resume seen yet",
    now,
  });
  drawTimeSeries(byTestId("chart-phases"), {
    series: phases.map((p) => ({ name: p.replace("_", " "), color: phaseColors[p], points: state.phaseSamples.map((s) => ({ t: s.t, v: s.counts[p] ?? 0 })) })),
    windowMs,
    yFormat: (v) => v.toLocaleString(),
    now,
  });
}

// ---- Small pieces -----------------------------------------------------------------------------------------------

function confirmAction(message) {
  const dialog = byTestId("confirm-dialog");
  byTestId("confirm-message").textContent = message;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

let toastTimer;

function toast(message, failed = false) {
  const element = byTestId("action-result");
  element.textContent = message;
  element.classList.toggle("failed", failed);
  element.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (element.hidden = true), 6000);
}

function formatAge(seconds) {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

function badge(text, kind) {
  return el("span", { class: `badge ${kind}` }, text.replace("_", " "));
}

function progress(done, total) {
  const share = total ? Math.min(1, done / total) : 0;
  return el("span", { class: "progress" }, el("span", { style: `width:${Math.round(share * 100)}%` }));
}

function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colspan: columns, class: "muted" }, text));
}

// Builds DOM nodes; text always goes in as text, never as HTML (session ids and errors come from outside).
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) {
      node.addEventListener(name.slice(2), value);
    } else if (value != null && value !== false) {
      node.setAttribute(name, value);
    }
  }

  node.append(...children.flat().filter((child) => child !== "" && child != null).map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

init();
