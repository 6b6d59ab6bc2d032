// The one scheduler of the page: every periodic refresh runs here, on one timer, while someone is signed in.
// A refresh runs again its period after it finished, never twice at once; a failed one waits its turn like the others
// (the cluster indicator shows an unreachable dashboard).
import { state } from "./state.js";

const tasks = []; // { ms, refresh }
let timer = null; // the one pending timeout

/** Registers a refresh to run every `ms` milliseconds once polling starts. */
export function every(ms, refresh) {
  tasks.push({ ms, refresh });
}

/** Runs every refresh now, then each on its period, until stop() or the next start(). */
export function start() {
  const generation = ++state.generation;
  const runs = tasks.map(({ ms, refresh }) => ({ ms, refresh, due: 0, running: false }));
  const current = () => generation === state.generation;

  const schedule = () => {
    if (!current()) {
      return;
    }

    clearTimeout(timer);
    const waiting = runs.filter((run) => !run.running);
    if (waiting.length) {
      timer = setTimeout(tick, Math.max(0, Math.min(...waiting.map((run) => run.due)) - Date.now()));
    }
  };

  const tick = () => {
    if (!current()) {
      return;
    }

    const now = Date.now();
    for (const run of runs.filter((r) => !r.running && r.due <= now)) {
      run.running = true;
      Promise.resolve()
        .then(run.refresh)
        .catch(() => {})
        .finally(() => {
          run.running = false;
          run.due = Date.now() + run.ms;
          schedule();
        });
    }

    schedule();
  };

  tick();
}

/** Stops every refresh; one that is under way finishes, and is not run again. */
export function stop() {
  state.generation++;
  clearTimeout(timer);
}

/** Runs `action` once after `ms` milliseconds; returns what cancels it. */
export function after(ms, action) {
  const id = setTimeout(action, ms);
  return () => clearTimeout(id);
}
