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

/**
 * `users` and `memo`, made when first read and kept on the context from then on: most
 * operations use neither, and a device waiting on a subscription would hold both for as
 * long as it waits. On the prototype, as the HTTP context's `log` (Apollo copies a context
 * with Object.assign, which would read a getter of its own once and keep the value).
 */
export function lazyRequestHelpers(users: UserRepo): Pick<GatewayContext, "users" | "memo"> {
  // Frozen, and made only on a context: one made on a prototype would be every request's.
  return Object.freeze(
    Object.create(Object.prototype, {
      users: keptOn("users", () => userLoader(users)),
      memo: keptOn("memo", requestMemo),
    }),
  ) as Pick<GatewayContext, "users" | "memo">;
}

/** A getter that makes the value and keeps it as the context's own; a setter that does the same with a given one (Object.assign copying a context that has it). */
function keptOn<T>(key: string, make: () => T): PropertyDescriptor {
  const keep = (target: object, value: T): T => {
    if (Object.isFrozen(target)) throw new Error(`${key} is made per context, not on a shared prototype`);
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
    return value;
  };
  return {
    get(this: object): T {
      return keep(this, make());
    },
    set(this: object, value: T) {
      keep(this, value);
    },
  };
}
