// The sessions: the count tiles by phase, the filters, one page of the table and its pager, drawn from the overview.
// Only one page of sessions is ever fetched, so the page stays as fast with 100k sessions as with ten.
import { phases, siloStatus } from "./constants.js";
import { sessionRow } from "./detail.js";
import { refreshOverview } from "./overview.js";
import { siloName, state } from "./state.js";
import { badge, el, emptyRow, find, formatAge } from "./ui.js";

const filterNames = ["phase", "silo", "stale", "limit"];

export function initSessions() {
  const form = find("session-filters");
  form.addEventListener("change", () => {
    for (const name of filterNames) {
      state.filters[name] = form.elements[name].value;
    }

    firstPage();
  });
  find("page-next").addEventListener("click", () => {
    if (state.next) {
      state.cursors.push(state.after);
      state.after = state.next;
      refreshOverview().catch(() => {});
    }
  });
  find("page-prev").addEventListener("click", () => {
    if (state.cursors.length) {
      state.after = state.cursors.pop();
      refreshOverview().catch(() => {});
    }
  });
}

// Sets some filters at once, in the form too, and shows the first page: { phase: "running", stale: "" }.
export function setFilters(changes) {
  const form = find("session-filters");
  if ("silo" in changes) {
    updateSiloFilter(changes.silo);
  }

  for (const [name, value] of Object.entries(changes)) {
    form.elements[name].value = value;
    state.filters[name] = value;
  }

  firstPage();
}

function firstPage() {
  state.cursors = [];
  state.after = null;
  refreshOverview().catch(() => {});
}

// The owner silo filter offers the silos of the membership table, and the one chosen even when it is gone.
export function updateSiloFilter(extra) {
  const select = find("filter-silo");
  const current = extra ?? select.value;
  const addresses = new Map(state.silos.map((s) => [s.address, `${s.name} ${s.address}${s.status === siloStatus.dead ? " (dead)" : ""}`]));
  if (current && !addresses.has(current)) {
    addresses.set(current, current);
  }

  // Rebuilt only when the options change: replacing them closes the list while the operator has it open.
  const wanted = [["", "any"], ...addresses];
  const same = select.options.length === wanted.length
    && wanted.every(([value, label], i) => select.options[i].value === value && select.options[i].textContent === label);
  if (!same) {
    select.replaceChildren(...wanted.map(([value, label]) => el("option", { value }, label)));
  }

  if (select.value !== current) {
    select.value = current;
  }
}

// The listing's page: { sessions, next, matching }. A click anywhere on a row opens the session.
export function renderSessions(page) {
  state.next = page.next;
  const rows = page.sessions.map((s) => sessionRow(s.sessionId, { "data-phase": s.phase },
    el("td", {}, badge(s.phase, s.phase), s.stale ? [" ", badge("stale", "stale")] : ""),
    el("td", { class: "nowrap" }, s.resumeReason ?? ""),
    el("td", { class: "address", title: s.ownerSilo ?? "" }, s.ownerSilo ? siloName(s.ownerSilo) : ""),
    el("td", { class: "num" }, s.attempts),
    el("td", { class: "num" }, formatAge(s.ageSeconds)),
    el("td", { class: "error-text", title: s.lastError ?? "" }, s.lastError ?? "")));
  find("sessions").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(7, "no session matches")]));
  const filtered = Object.entries(state.filters).some(([name, value]) => name !== "limit" && value);
  find("sessions-matching").textContent = `${page.matching.toLocaleString()} ${filtered ? "match the filters" : "sessions"}`;
  find("page-info").textContent = `page ${state.cursors.length + 1}`;
  find("page-prev").disabled = state.cursors.length === 0;
  find("page-next").disabled = !page.next;
}

// One tile per phase, and one of stale markers; a click shows that tile's sessions.
export function renderCounts(counts) {
  const tiles = [...phases, "stale"].map((name) => el("button", {
      type: "button",
      class: `count ${name}`,
      title: name === "stale" ? "resume_pending longer than the freshness window: never resumed automatically" : `show ${name} sessions`,
      // A tile shows its own sessions: stale ones are resume_pending, so the two filters are not combined.
      onclick: () => setFilters(name === "stale" ? { stale: "true", phase: "" } : { phase: name, stale: "" }),
    },
    el("strong", {}, (counts[name] ?? 0).toLocaleString()),
    name.replace("_", " ")));
  find("phase-counts").replaceChildren(...tiles);
}
