import DataLoader from "dataloader";
import type { Logger } from "pino";
import type { ClientInfo, UserRecord, UserRepo } from "../core/ports";
import type { Principal, RefreshCookie } from "../core/auth";

/** What every resolver gets: who is calling, from where, and a logger tied to the request. */
export interface GatewayContext {
  requestId: string;
  /** HTTP only: the operation's name and type once it resolved, for the request's log line. */
  operation?: { operationName?: string; operationType?: string };
  principal: Principal | null;
  client: ClientInfo;
  log: Logger;
  /** Users by id, batched per request (federation references resolve through it). */
  users: DataLoader<string, UserRecord | null>;
  /** Set when a browser asked for its refresh token as an httpOnly cookie (HTTP only). */
  refreshCookie?: RefreshCookie;
  /** One answer per key per request: aliases of the same field cost one query, not one each. */
  memo: RequestMemo;
  /** May call the federation fields `_service` and `_entities` (in production: the router, by its secret). */
  federationCaller: boolean;
}

export type RequestMemo = <T>(key: string, compute: () => Promise<T>) => Promise<T>;

/** A fresh memo per request (never shared: answers depend on who asks). */
export function requestMemo(): RequestMemo {
  const answers = new Map<string, Promise<unknown>>();
  return <T>(key: string, compute: () => Promise<T>) => {
    let answer = answers.get(key) as Promise<T> | undefined;
    if (!answer) answers.set(key, (answer = compute()));
    return answer;
  };
}

/** A fresh loader per request: one query for all the ids the request asks for. */
export function userLoader(users: UserRepo): DataLoader<string, UserRecord | null> {
  return new DataLoader(async (ids) => {
    const found = new Map((await users.findByIds(ids)).map((u) => [u.id, u]));
    return ids.map((id) => found.get(id) ?? null);
  });
}
