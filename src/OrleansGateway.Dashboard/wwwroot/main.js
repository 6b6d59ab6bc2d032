// The operator page: reads and acts through /api/operator with the operator's token, nothing else. This module wires
// the screens together and registers every periodic refresh with the one scheduler (poll.js). Everything that describes
// the cluster's state comes from one poll (the overview, one database snapshot); the charts' histories and the open
// session are read apart.
import { refreshMs } from "./constants.js";
import { initDetail, refreshDetail } from "./detail.js";
import { refreshOverview } from "./overview.js";
import { every } from "./poll.js";
import { initSessions } from "./sessions.js";
import { initSignIn } from "./signin.js";
import { refreshCluster } from "./silos.js";
import { drawCharts, refreshCountHistory, refreshResumeLag } from "./trends.js";

every(refreshMs.overview, refreshOverview);
every(refreshMs.countHistory, refreshCountHistory);
every(refreshMs.resumeLag, refreshResumeLag);
every(refreshMs.detail, refreshDetail);
every(refreshMs.cluster, refreshCluster);

initSessions();
initDetail();
window.addEventListener("resize", drawCharts);
initSignIn();
