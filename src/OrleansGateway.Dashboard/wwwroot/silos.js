// The cluster indicator and the silos' table with its drain and restart buttons.
import { api } from "./api.js";
import { siloStatus } from "./constants.js";
import { updateSiloFilter } from "./sessions.js";
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

export async function refreshSilos() {
  state.silos = await api("/api/operator/silos");
  const rows = state.silos.map((silo) => {
    const dead = silo.status === siloStatus.dead;
    // A draining silo is still Active in the membership table, and takes no second stop: no buttons for it.
    const canStop = silo.status === siloStatus.active && !silo.draining && state.caller?.canAct;
    const status = [badge(silo.status, silo.status)];
    if (!silo.reachable && !dead) {
      status.push(" ", badge("unreachable", "unreachable"));
    }

    const actions = el("td", {},
      canStop ? el("button", { class: "small", onclick: () => stopSilo(silo, "drain") }, "Drain") : "",
      " ",
      canStop ? el("button", { class: "small", onclick: () => stopSilo(silo, "restart") }, "Restart") : "");
    return el("tr", { "data-status": silo.status, class: dead ? "dead" : null },
      el("td", {}, el("div", {}, silo.name), el("div", { class: "muted" }, silo.address)),
      el("td", {}, ...status),
      el("td", {}, silo.draining == null ? "–" : silo.draining ? "yes" : "no"),
      el("td", { class: "num" }, silo.activeSessions ?? "–"),
      el("td", { class: "num" }, silo.runningTurns ?? "–"),
      el("td", { class: "muted" }, (silo.version ?? "–").split("+")[0]),
      actions);
  });
  find("silos").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no silo in the membership table")]));
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

  refreshSilos().catch(() => {});
}
