// The cluster indicator and the silos' table (drawn from the overview) with its drain and restart buttons.
import { api } from "./api.js";
import { siloStatus } from "./constants.js";
import { refreshOverview } from "./overview.js";
import { setFilters, updateSiloFilter } from "./sessions.js";
import { state } from "./state.js";
import { badge, confirmAction, el, emptyRow, find, toast } from "./ui.js";

export async function refreshCluster() {
  const indicator = find("cluster-status");
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    indicator.dataset.state = response.ok ? "connected" : "disconnected";
    indicator.textContent = response.ok ? "cluster: connected" : "cluster: no silo reachable";
  } catch {
    indicator.dataset.state = "disconnected";
    indicator.textContent = "dashboard unreachable";
  }
}

// One row per silo endpoint, sorted by name: its newest generation, earlier ones (restarts) collapsed under it. What the
// ledger says it owns and what it holds in memory are two columns: they differ (idle activations, sessions it resumed).
export function renderSilos(silos) {
  state.silos = silos;
  const rows = silos.map((silo) => {
    const dead = silo.status === siloStatus.dead;
    // A draining silo is still Active in the membership table, and takes no second stop: no buttons for it.
    const canStop = silo.status === siloStatus.active && !silo.draining && state.caller?.canAct;
    const status = [badge(silo.status, silo.status)];
    if (!silo.reachable && !dead) {
      status.push(" ", badge("unreachable", "unreachable"));
    }

    const earlier = silo.previousGenerations.map((g) => `@${g.generation} ${g.status}${g.ownedSessions ? `, owns ${g.ownedSessions}` : ""}`);
    const actions = el("td", { class: "nowrap" },
      canStop ? el("button", { class: "small", onclick: () => stopSilo(silo, "drain") }, "Drain") : "",
      " ",
      canStop ? el("button", { class: "small", onclick: () => stopSilo(silo, "restart") }, "Restart") : "");
    return el("tr", { "data-status": silo.status, "data-endpoint": silo.endpoint, class: dead ? "dead" : null },
      el("td", {}, el("div", {}, silo.name), el("div", { class: "muted address" }, silo.address),
        earlier.length ? el("div", { class: "muted generations", title: "earlier generations of this endpoint (restarts)" }, `restarted; before: ${earlier.join("; ")}`) : ""),
      el("td", { class: "nowrap" }, ...status),
      el("td", {}, silo.draining == null ? "–" : silo.draining ? "yes" : "no"),
      el("td", { class: "num" }, el("a", { href: "#sessions-heading", title: `show the sessions ${silo.name} owns`, onclick: () => setFilters({ silo: silo.address, phase: "", stale: "" }) },
        silo.ownedSessions.toLocaleString()), silo.ownedRunning ? el("div", { class: "muted nowrap" }, `${silo.ownedRunning} running`) : ""),
      el("td", { class: "num" }, silo.activations ?? "–"),
      el("td", { class: "num" }, silo.runningTurns ?? "–"),
      el("td", { class: "muted nowrap" }, (silo.version ?? "–").split("+")[0]),
      actions);
  });
  find("silos").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(8, "no silo in the membership table")]));
  updateSiloFilter();
}

async function stopSilo(silo, action) {
  const what = action === "restart"
    ? `Restart ${silo.name} (${silo.address})? Its running sessions are premarked restart_timeout and resume after the drain; the silo exits to be started again.`
    : `Drain ${silo.name} (${silo.address})? Its running sessions are premarked shutdown_timeout and resume on the other silos; the silo then stops for good.`;
  if (!(await confirmAction(what))) {
    return;
  }

  try {
    const report = await api(`/api/operator/silos/${encodeURIComponent(silo.address)}/${action}`, { method: "POST" });
    toast(`${silo.name}: ${action} requested (draining: ${report.draining ? "yes" : "not yet"}, ${report.runningTurns} running turns)`);
  } catch (e) {
    toast(`${action} ${silo.name}: ${e.message}`, true);
  }

  refreshOverview().catch(() => {});
}
