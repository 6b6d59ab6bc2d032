// The operator page: reads and acts through /api/operator with the operator's token, nothing else. This module wires
// the screens together and registers every periodic refresh with the one scheduler (poll.js).
import { refreshMs } from "./constants.js";
import { initDetail, refreshDetail } from "./detail.js";
import { refreshEvents } from "./events.js";
import { every } from "./poll.js";
import { initSessions, refreshSessions } from "./sessions.js";
import { initSignIn } from "./signin.js";
import { refreshCluster, refreshSilos } from "./silos.js";
import { drawCharts, refreshCountHistory } from "./trends.js";

every(refreshMs.countHistory, refreshCountHistory);
every(refreshMs.events, refreshEvents);
every(refreshMs.silos, refreshSilos);
every(refreshMs.sessions, refreshSessions);
every(refreshMs.detail, refreshDetail);
every(refreshMs.cluster, refreshCluster);

initSessions();
initDetail();
window.addEventListener("resize", drawCharts);
initSignIn();
