import { useSyncExternalStore } from "react";

/*
 * Whether the gateway answered the last request. Every HTTP call goes through
 * `trackedFetch`, and the WebSocket client reports its closes here, so the app can show
 * one calm banner ("Can't reach the server") instead of failing screen by screen.
 */

let reachable = true;
const listeners = new Set<() => void>();

export function setReachable(value: boolean): void {
  if (value === reachable) return;
  reachable = value;
  listeners.forEach((listener) => listener());
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useReachable(): boolean {
  return useSyncExternalStore(subscribe, () => reachable);
}

/**
 * `fetch`, noting whether the gateway answered. A proxy that cannot reach the gateway
 * (Vite's dev server, a load balancer) answers 5xx without a JSON body: that counts as
 * unreachable too. GraphQL errors (JSON bodies) mean the server is there.
 */
export const trackedFetch: typeof fetch = async (input, init) => {
  try {
    const response = await fetch(input, init);
    const json = response.headers.get("content-type")?.includes("json") ?? false;
    setReachable(response.status < 500 || json);
    return response;
  } catch (error) {
    setReachable(false);
    throw error;
  }
};
