// The names the page shares with the operator API, and the page's own timings: each has its one home here.

export const tokenKey = "ogw.operatorToken";

// The sessions' phases as the API names them, in the order the page shows them.
export const phases = ["idle", "running", "resume_pending", "suspended", "quarantined"];
export const phaseColors = { idle: "#8b93a1", running: "#2f7de1", resume_pending: "#d98a00", suspended: "#8a4fd1", quarantined: "#d33a3a", stale: "#7a5b00" };

// Orleans' SiloStatus names, as GET /api/operator/silos reports them (the page compares with these two only).
export const siloStatus = Object.freeze({ active: "Active", dead: "Dead" });

export const chartWindowMs = 60 * 60 * 1000; // as long as the dashboard keeps its samples of the counts
export const feedLength = 300;
export const toastMs = 6000;

// How often each part of the page is read again, in milliseconds. The counts' history is sampled by the dashboard
// every 5 s (PhaseCountHistory.Interval): reading it more often shows nothing new; nor does the resume lag's.
export const refreshMs = { overview: 1000, detail: 1000, cluster: 3000, countHistory: 5000, resumeLag: 5000 };
