// Everything the page remembers, declared in one place. The modules read and change it; nothing else keeps state.

export const state = {
  token: null, // the operator token; null when reading anonymously
  caller: null, // { name, canAct }
  generation: 0, // bumped on every start and stop of the polling: work of an earlier sign-in stops
  filters: { phase: "", silo: "", stale: "", limit: "50" },
  cursors: [], // the `after` cursor of every page before this one
  after: null, // this page's cursor
  next: null, // the next page's cursor, null on the last page
  overviewRequest: 0, // the latest read of the overview: an older answer is dropped
  selected: null, // the session shown in the detail view
  turnCursors: [], // the `before` cursor of every older page of turns the detail went back to; empty: the newest turns, live
  turnsOlder: null, // the cursor of the turns before those shown, null when the first turn is shown
  activeTurnId: null, // the detail's session's active turn, marked in its turns
  eventCursor: null, // the feed's `last`: where the next read of events starts
  lagPoints: [], // { t, drain, resume }: each resume's lag in seconds, its wait for the drain and the resume itself
  phaseSamples: [], // { t, counts }: the dashboard's samples of the counts by phase (GET .../counts/history)
  silos: [], // the overview's silos, for the owner filter and the owners' names
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

// A session's owner as operators name silos: the silo's name (with the generation, for one before a restart), or the
// address itself for a silo the overview does not list. Tables show it, with the address on hover.
export function siloName(address) {
  for (const silo of state.silos) {
    if (silo.address === address) {
      return silo.name;
    }

    const earlier = silo.previousGenerations.find((g) => g.address === address);
    if (earlier) {
      return `${silo.name} @${earlier.generation}`;
    }
  }

  return address;
}
