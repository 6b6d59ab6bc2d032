// The two charts of the last hour: resume lag (from the events) and sessions by phase over time. The counts over time
// have one producer, the dashboard's own samples (GET /api/operator/counts/history, every 5 s): the page only reads them.
import { api } from "./api.js";
import { chartWindowMs, phaseColors, phases } from "./constants.js";
import { drawTimeSeries } from "./charts.js";
import { state } from "./state.js";
import { find } from "./ui.js";

export async function refreshCountHistory() {
  const generation = state.generation;
  const history = await api("/api/operator/counts/history");
  if (generation !== state.generation) {
    return; // Read for a sign-in that ended.
  }

  state.phaseSamples = history.samples.map((s) => ({ t: Date.parse(s.at), counts: s.counts }));
  drawCharts();
}

export function drawCharts() {
  const now = Date.now();
  // The last hour, or less when less is known: the oldest sample or resume fills the chart.
  const oldest = Math.min(now, state.phaseSamples[0]?.t ?? now, state.lagPoints[0]?.t ?? now);
  const windowMs = Math.min(chartWindowMs, Math.max(60_000, now - oldest));
  drawTimeSeries(find("chart-resume-lag"), {
    series: [{ name: "resume lag", color: phaseColors.resume_pending, style: "dots", points: state.lagPoints }],
    windowMs,
    yFormat: (v) => `${+v.toFixed(1)} s`,
    emptyText: "no resume seen yet",
    now,
  });
  drawTimeSeries(find("chart-phases"), {
    series: phases.map((p) => ({ name: p.replace("_", " "), color: phaseColors[p], points: state.phaseSamples.map((s) => ({ t: s.t, v: s.counts[p] ?? 0 })) })),
    windowMs,
    yFormat: (v) => v.toLocaleString(),
    now,
  });
}
