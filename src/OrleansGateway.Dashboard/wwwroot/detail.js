// One session: its fields, its newest turns (and older ones a page at a time) and history, and the operator's actions
// on it (resume, suspend, release). A session with a long history costs one page of turns, never all of them.
import { api } from "./api.js";
import { eventItem } from "./events.js";
import { refreshOverview } from "./overview.js";
import { state } from "./state.js";
import { siloStatus } from "./constants.js";
import { badge, confirmAction, el, emptyRow, find, formatAge, progress, toast } from "./ui.js";

const turnsPerPage = 50;

export function initDetail() {
  find("detail-close").addEventListener("click", () => select(null));
  find("turns-older").addEventListener("click", () => pageTurns(() => state.turnCursors.push(state.turnsOlder)));
  find("turns-newer").addEventListener("click", () => pageTurns(() => state.turnCursors.pop()));
  find("action-resume").addEventListener("click", () => act("resume", "Resume now? A suspended session continues; a waiting one is resumed at once, ahead of the sweepers."));
  find("action-suspend").addEventListener("click", () => act("suspend", "Suspend? Its running turn stops at its checkpoint and nothing resumes it until an operator does."));
  find("action-release").addEventListener("click", () => act("release", "Release from quarantine? It is resumed with a fresh count of attempts."));
}

export function select(sessionId) {
  state.selected = sessionId;
  state.turnCursors = [];
  find("session-detail").hidden = !sessionId;
  for (const row of [...find("sessions").tBodies[0].rows, ...find("attention").tBodies[0].rows]) {
    row.classList.toggle("selected", row.dataset.sessionId === sessionId);
  }

  if (sessionId) {
    find("detail-id").textContent = sessionId;
    refreshDetail().catch(() => {});
  }
}

// A row of a table of sessions (the attention list, the listing): a click anywhere on it opens the session.
export function sessionRow(sessionId, data, ...cells) {
  return el("tr", { class: `clickable${sessionId === state.selected ? " selected" : ""}`, "data-session-id": sessionId, ...data, onclick: () => select(sessionId) },
    el("td", { class: "id" }, sessionId), ...cells);
}

export async function refreshDetail() {
  const sessionId = state.selected;
  if (!sessionId) {
    return;
  }

  let detail;
  try {
    detail = await api(`/api/operator/sessions/${encodeURIComponent(sessionId)}?turns=${turnsPerPage}`);
  } catch (e) {
    if (e.status === 404 && state.selected === sessionId) {
      find("detail-phase").replaceChildren("gone");
    }

    throw e;
  }

  if (state.selected !== sessionId) {
    return;
  }

  const s = detail.session;
  const phase = find("detail-phase");
  phase.dataset.phase = s.phase;
  phase.replaceChildren(badge(s.phase, s.phase), s.stale ? [" ", badge("stale", "stale")] : "");
  find("detail-reason").textContent = s.resumeReason ?? "–";
  // An owner the cluster declared dead runs nothing: flagged, since the session waits for someone else to take it.
  const ownerDead = s.ownerStatus === siloStatus.dead;
  find("detail-owner").dataset.ownerStatus = s.ownerStatus ?? "";
  find("detail-owner").replaceChildren(s.ownerSilo ?? "–", ownerDead ? [" ", badge("Dead", "Dead")] : "");
  find("detail-epoch").textContent = s.epoch;
  find("detail-attempts").textContent = s.attempts;
  find("detail-age").textContent = ageText(s);
  find("detail-error").textContent = s.lastError ?? "–";

  const canAct = state.caller?.canAct;
  find("action-resume").disabled = !canAct || !["suspended", "resume_pending"].includes(s.phase);
  find("action-suspend").disabled = !canAct || s.phase === "suspended";
  find("action-release").disabled = !canAct || s.phase !== "quarantined";

  const unavailable = find("detail-turns-unavailable");
  unavailable.hidden = !s.turnsUnavailable;
  unavailable.textContent = s.turnsUnavailable ?? "";
  state.activeTurnId = s.activeTurnId;
  if (!state.turnCursors.length) {
    showTurns(s.turns, s.turnCount, s.turnsBefore);
  }

  find("detail-history").replaceChildren(...(detail.timeline ?? []).map(timelineItem));
}

// A running session's age is that of its last checkpoint: its progress bar moves while its ledger row does not change.
function ageText(s) {
  if (s.phase === "resume_pending") {
    return `${formatAge(s.ageSeconds)} since it was marked`;
  }

  if (s.phase === "running" && s.lastProgressAt) {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(s.lastProgressAt)) / 1000));
    return `last checkpoint ${formatAge(seconds)} ago`;
  }

  return `${formatAge(s.ageSeconds)} since its last change`;
}

// One step of the session's life: its own events, its turns' transitions, and the silo stop that premarked it.
function timelineItem(entry) {
  return eventItem(entry, [entry.turnId, entry.silo]);
}

// Goes to an older or a newer page of turns (move changes state.turnCursors); the newest page is the live detail.
async function pageTurns(move) {
  const sessionId = state.selected;
  move();
  const before = state.turnCursors.at(-1);
  try {
    if (!before) {
      await refreshDetail();
      return;
    }

    const page = await api(`/api/operator/sessions/${encodeURIComponent(sessionId)}/turns?before=${encodeURIComponent(before)}&limit=${turnsPerPage}`);
    if (state.selected === sessionId && state.turnCursors.at(-1) === before) {
      showTurns([...page.turns].reverse(), page.turnCount, page.before);
    }
  } catch (e) {
    toast(`turns of ${sessionId}: ${e.message}`, true);
  }
}

// Turns oldest first; turnCount all the session's turns (null when unknown), older the cursor of the turns before them.
function showTurns(turns, turnCount, older) {
  state.turnsOlder = older;
  find("turns-older").disabled = !older;
  find("turns-newer").disabled = !state.turnCursors.length;
  find("turns-info").textContent = turnCount == null ? ""
    : turns.length ? `${turns[0].turnId}–${turns.at(-1).turnId} of ${turnCount} turns`
    : `${turnCount} turns`;
  const rows = turns.map((t) => el("tr", { "data-status": t.status },
    el("td", {}, t.turnId, state.activeTurnId === t.turnId ? " ◀" : ""),
    el("td", { class: "muted" }, t.messageId),
    el("td", { class: "nowrap" }, t.status),
    el("td", {}, progress(t.stepsDone, t.stepsTotal), `${t.stepsDone}/${t.stepsTotal ?? "?"}`),
    el("td", { class: "num" }, t.executions),
    el("td", {}, t.reply ?? "", t.usage ? el("span", { class: "muted" }, ` · ${t.usage.input} in / ${t.usage.output} out tokens`) : "")));
  find("detail-turns").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(6, "no turns")]));
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
  refreshOverview().catch(() => {});
}
