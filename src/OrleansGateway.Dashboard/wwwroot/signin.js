// Sign-in and sign-out: the token stays in this tab's sessionStorage and goes out as a Bearer header only.
import { api } from "./api.js";
import { tokenKey } from "./constants.js";
import * as poll from "./poll.js";
import { forgetSignIn, state } from "./state.js";
import { find } from "./ui.js";

const signedInOnly = ["signed-in-as", "orleans-link", "sign-out"];

export async function initSignIn() {
  find("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await signIn(find("token-input").value.trim());
  });
  find("read-only").addEventListener("click", () => signIn(null));
  find("sign-out").addEventListener("click", () => signOut(""));

  // A dashboard with AllowAnonymousReadOnly answers without a token: offer to read without one.
  fetch("/api/operator/me", { cache: "no-store" }).then((r) => (find("read-only").hidden = !r.ok), () => {});

  const saved = sessionStorage.getItem(tokenKey);
  if (saved) {
    await signIn(saved);
  }
}

async function signIn(token) {
  const error = find("sign-in-error");
  error.textContent = "";
  try {
    state.caller = await api("/api/operator/me", { token });
  } catch (e) {
    error.textContent = e.status === 401 ? "That token is not accepted." : `Cannot sign in: ${e.message}`;
    if (e.status === 401 && token && sessionStorage.getItem(tokenKey) === token) {
      // A saved token that is refused now (rotated, revoked) is not offered again on the next load.
      sessionStorage.removeItem(tokenKey);
    }

    return;
  }

  state.token = token;
  if (token) {
    sessionStorage.setItem(tokenKey, token);
    // The official Orleans dashboard cannot send our header: the server sets an HttpOnly cookie for /orleans/ instead.
    await fetch("/orleans/signin", { method: "POST", headers: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }

  find("token-input").value = "";
  showSignedIn(true);
  find("signed-in-as").textContent = state.caller.name ? `signed in as ${state.caller.name}` : "read-only (anonymous)";
  document.body.classList.toggle("read-only", !state.caller.canAct);
  poll.start();
}

export function signOut(message) {
  poll.stop();
  forgetSignIn();
  sessionStorage.removeItem(tokenKey);
  fetch("/orleans/signout", { method: "POST" }).catch(() => {});
  showSignedIn(false);
  find("event-feed").replaceChildren();
  find("sign-in-error").textContent = message;
}

function showSignedIn(signedIn) {
  find("sign-in-view").hidden = signedIn;
  find("main-view").hidden = !signedIn;
  for (const id of signedInOnly) {
    find(id).hidden = !signedIn;
  }
}
