// The operator API, read and acted on with the operator's token as a Bearer header; its errors as ApiError.
import { state } from "./state.js";
import { signOut } from "./signin.js";

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(path, { method = "GET", token = state.token } = {}) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { method, headers, cache: "no-store" });
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (response.status === 401 && token === state.token && state.caller) {
    signOut(body?.error ?? "signed out: the token is no longer accepted");
  }

  if (!response.ok) {
    throw new ApiError(response.status, body?.error ?? `${response.status} ${response.statusText}`);
  }

  return body;
}
