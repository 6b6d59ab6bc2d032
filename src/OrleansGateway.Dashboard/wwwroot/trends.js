// The two charts of the last hour: resume lag (each resume's wait for the drain, then the resume itself) and sessions by
// phase over time. Both histories have one producer, the dashboard (GET /api/operator/resume-lag, computed from the
// events; GET /api/operator/counts/history, its samples every 5 s): the page only reads them.
import { api } from "./api.js";
import { chartWindowMs, phaseColors, phases } from "./constants.js";
import { drawTimeSeries } from "./charts.js";
import { state } from "./state.js";
import { find } from "./ui.js";

// Idle is nearly every session of a large ledger: drawn on the same scale it flattens the phases that need a person.
const chartedPhases = [...phases.filter((p) => p !== "idle"), "stale"];

export async function refreshCountHistory() {
  const generation = state.generation;
  const history = await api("/api/operator/counts/history");
  if (generation !== state.generation) {
    return; // Read for a sign-in that ended.
  }

  state.phaseSamples = history.samples.map((s) => ({ t: Date.parse(s.at), counts: s.counts }));
  drawCharts();
}

export async function refreshResumeLag() {
  const generation = state.generation;
  const lag = await api("/api/operator/resume-lag");
  if (generation !== state.generation) {
    return;
  }

  state.lagPoints = lag.points.map((p) => ({ t: Date.parse(p.at), drain: p.drainSeconds, resume: p.resumeSeconds }));
  drawCharts();
}

export function drawCharts() {
  const now = Date.now();
  // The last hour, or less when less is known: the oldest sample or resume fills the chart.
  const oldest = Math.min(now, state.phaseSamples[0]?.t ?? now, state.lagPoints[0]?.t ?? now);
  const windowMs = Math.min(chartWindowMs, Math.max(60_000, now - oldest));
  drawTimeSeries(find("chart-resume-lag"), {
    series: [
      { name: "waiting for the drain", color: phaseColors.idle, style: "bars", points: state.lagPoints.map((p) => ({ t: p.t, base: 0, v: p.drain })) },
      { name: "the resume itself", color: phaseColors.resume_pending, style: "bars", points: state.lagPoints.map((p) => ({ t: p.t, base: p.drain, v: p.resume })) },
    ],
    windowMs,
    yFormat: (v) => `${+v.toFixed(1)} s`,
    emptyText: "no resume in the last hour",
    now,
  });
  const latest = state.phaseSamples.at(-1)?.counts;
  drawTimeSeries(find("chart-phases"), {
    series: chartedPhases.map((p) => ({ name: p.replace("_", " "), color: phaseColors[p], points: state.phaseSamples.map((s) => ({ t: s.t, v: s.counts[p] ?? 0 })) })),
    windowMs,
    yFormat: (v) => v.toLocaleString(),
    note: latest ? `idle: ${(latest.idle ?? 0).toLocaleString()} (not drawn)` : "",
    integers: true,
    now,
  });
}
