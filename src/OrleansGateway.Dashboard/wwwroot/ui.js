// Small pieces every screen of the page uses: elements by id, building DOM nodes, formats, the dialog and the toast.
import { toastMs } from "./constants.js";
import { after } from "./poll.js";
import { state } from "./state.js";

export const find = (id) => document.getElementById(id);

// Builds DOM nodes; text always goes in as text, never as HTML (session ids and errors come from outside).
export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) {
      node.addEventListener(name.slice(2), value);
    } else if (value != null && value !== false) {
      node.setAttribute(name, value);
    }
  }

  node.append(...children.flat().filter((child) => child !== "" && child != null).map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

export function badge(text, kind) {
  return el("span", { class: `badge ${kind}` }, text.replace("_", " "));
}

export function progress(done, total) {
  const share = total ? Math.min(1, done / total) : 0;
  return el("span", { class: "progress" }, el("span", { style: `width:${Math.round(share * 100)}%` }));
}

export function emptyRow(columns, text) {
  return el("tr", {}, el("td", { colspan: columns, class: "muted" }, text));
}

export function formatAge(seconds) {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, "0")}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

export function formatSeconds(seconds) {
  return seconds < 60 ? `${seconds.toFixed(1)} s` : formatAge(Math.round(seconds));
}

// Asks before an action: true when the operator confirms.
export function confirmAction(message) {
  const dialog = find("confirm-dialog");
  find("confirm-message").textContent = message;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

// What an action did, for a few seconds.
export function toast(message, failed = false) {
  const element = find("action-result");
  element.textContent = message;
  element.classList.toggle("failed", failed);
  element.hidden = false;
  state.hideToast?.();
  state.hideToast = after(toastMs, () => (element.hidden = true));
}
