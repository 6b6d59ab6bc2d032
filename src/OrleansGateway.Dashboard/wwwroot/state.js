// Everything the page remembers, declared in one place. The modules read and change it; nothing else keeps state.

export const state = {
  token: null, // the operator token; null when reading anonymously
  caller: null, // { name, canAct }
  generation: 0, // bumped on every start and stop of the polling: work of an earlier sign-in stops
  filters: { phase: "", silo: "", stale: "", limit: "50" },
  cursors: [], // the `after` cursor of every page before this one
  after: null, // this page's cursor
  next: null, // the next page's cursor, null on the last page
  sessionsRequest: 0, // the latest read of the sessions table: an older answer is dropped
  selected: null, // the session shown in the detail view
  turnCursors: [], // the `before` cursor of every older page of turns the detail went back to; empty: the newest turns, live
  turnsOlder: null, // the cursor of the turns before those shown, null when the first turn is shown
  activeTurnId: null, // the detail's session's active turn, marked in its turns
  eventCursor: null, // the feed's `last`: where the next read of events starts
  lagPoints: [], // { t, v }: resume lag in seconds, from `resumed` events
  phaseSamples: [], // { t, counts }: the dashboard's samples of the counts by phase (GET .../counts/history)
  silos: [],
  hideToast: null, // cancels the pending hiding of the shown toast
};

// What was read for one sign-in: the next one (maybe another operator, another cluster) starts empty.
export function forgetSignIn() {
  state.token = null;
  state.caller = null;
  state.eventCursor = null;
  state.lagPoints = [];
  state.phaseSamples = [];
}
