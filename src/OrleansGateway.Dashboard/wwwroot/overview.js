// The page's one poll: GET /api/operator/overview answers the tiles, the silos, the attention list, the listing's page and
// the feed's next events from one database snapshot, so that no panel contradicts another. Only the newest answer is shown.
import { api } from "./api.js";
import { appendEvents } from "./events.js";
import { renderAttention } from "./attention.js";
import { renderCounts, renderSessions } from "./sessions.js";
import { renderSilos } from "./silos.js";
import { state } from "./state.js";
import { find } from "./ui.js";

export async function refreshOverview() {
  const request = ++state.overviewRequest;
  const generation = state.generation;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(state.filters)) {
    if (value) {
      query.set(name, value);
    }
  }

  if (state.after) {
    query.set("after", state.after);
  }

  if (state.eventCursor != null) {
    query.set("eventsAfter", state.eventCursor);
  }

  const overview = await api(`/api/operator/overview?${query}`);
  if (request !== state.overviewRequest || generation !== state.generation) {
    return; // A newer read (another page, other filters, the next poll) answers for the page.
  }

  state.eventCursor = overview.events.last;
  find("snapshot-at").textContent = `as of ${new Date(overview.at).toLocaleTimeString([], { hourCycle: "h23" })}`;
  renderCounts(overview.counts);
  // The silos first: the tables after them name owners by them.
  renderSilos(overview.silos);
  renderAttention(overview.attention);
  renderSessions(overview.sessions);
  appendEvents(overview.events.events);
}
