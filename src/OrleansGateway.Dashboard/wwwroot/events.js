// The live event feed, followed with the overview's cursor. Kinds the page does not know are shown as they come.
import { feedLength } from "./constants.js";
import { el, find, formatSeconds } from "./ui.js";

// Newest first: the overview's events come oldest first.
export function appendEvents(events) {
  const feed = find("event-feed");
  for (const event of events) {
    feed.prepend(eventItem(event));
  }

  while (feed.children.length > feedLength) {
    feed.lastElementChild.remove();
  }
}

// One event, in the feed (about a session and a silo) and in a session's timeline (about a turn and a silo).
export function eventItem(event, about = [event.sessionId, event.silo]) {
  const target = about.filter(Boolean).join(" on ");
  return el("li", { "data-kind": event.kind, "data-source": event.source },
    el("span", { class: "time", title: event.at }, new Date(event.at).toLocaleTimeString([], { hourCycle: "h23" })),
    el("span", { class: "kind" }, el("div", {}, event.kind), event.actor ? el("div", { class: "muted" }, `by ${event.actor}`) : ""),
    el("span", {}, target ? el("div", { class: "muted" }, target) : "", event.detail,
      event.waitedSeconds != null ? `, waited ${formatSeconds(event.waitedSeconds)}` : ""));
}
