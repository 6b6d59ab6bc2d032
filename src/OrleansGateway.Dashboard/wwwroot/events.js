// The live event feed, followed with the cursor of the last read; `resumed` events give the resume lag chart its points.
import { api } from "./api.js";
import { feedLength } from "./constants.js";
import { state } from "./state.js";
import { drawCharts } from "./trends.js";
import { el, find, formatSeconds } from "./ui.js";

export async function refreshEvents() {
  const query = state.eventCursor == null ? "limit=100" : `after=${encodeURIComponent(state.eventCursor)}&limit=500`;
  const page = await api(`/api/operator/events?${query}`);
  state.eventCursor = page.last;
  if (page.events.length === 0) {
    return;
  }

  const feed = find("event-feed");
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

// One event, in the feed and in a session's history.
export function eventItem(event) {
  const target = [event.sessionId, event.silo].filter(Boolean).join(" on ");
  return el("li", { "data-kind": event.kind },
    el("span", { class: "time", title: event.at }, new Date(event.at).toLocaleTimeString([], { hourCycle: "h23" })),
    el("span", { class: "kind" }, el("div", {}, event.kind), event.actor ? el("div", { class: "muted" }, `by ${event.actor}`) : ""),
    el("span", {}, target ? el("div", { class: "muted" }, target) : "", event.detail,
      event.waitedSeconds != null ? `, waited ${formatSeconds(event.waitedSeconds)}` : ""));
}

// A `resumed` event carries how long the session waited between its marker and the claim: the resume lag.
function resumeLagSeconds(event) {
  return event.kind === "resumed" && event.waitedSeconds != null ? event.waitedSeconds : null;
}
