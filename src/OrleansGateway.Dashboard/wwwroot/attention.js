// What needs a person, newest risk first: sessions waiting to be resumed (fresh or stale), quarantined, suspended, or
// whose last turn failed, with the reason, the owner (flagged when Dead), the age and the last error.
import { sessionRow } from "./detail.js";
import { siloName } from "./state.js";
import { badge, el, emptyRow, find, formatAge } from "./ui.js";

export function renderAttention(attention) {
  const rows = attention.sessions.map((s) => sessionRow(s.sessionId, { "data-reason": s.reason },
    el("td", {}, badge(s.reason, s.reason), s.resumeReason ? el("div", { class: "muted nowrap" }, s.resumeReason) : ""),
    el("td", { class: "address", title: s.ownerSilo ?? "" }, s.ownerSilo ? siloName(s.ownerSilo) : "–", s.ownerDead ? [" ", badge("Dead", "Dead")] : ""),
    el("td", { class: "num" }, s.attempts),
    el("td", { class: "num", title: s.since }, formatAge(s.ageSeconds)),
    el("td", { class: "error-text", title: s.lastError ?? "" }, s.lastError ?? "")));
  find("attention").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(6, "nothing needs attention")]));
  const reasons = Object.entries(attention.reasons).map(([reason, count]) => `${count} ${reason.replace("_", " ")}`).join(", ");
  find("attention-summary").textContent = attention.total === 0 ? "(none)"
    : attention.sessions.length < attention.total ? `(${attention.sessions.length} of ${attention.total}: ${reasons})`
    : `(${attention.total}: ${reasons})`;
}
