import { randomUUID } from "node:crypto";
import type http from "node:http";
import { GraphQLError, NoSchemaIntrospectionCustomRule, type GraphQLFormattedError, type GraphQLSchema, type ValidationRule } from "graphql";
import { WebSocketServer } from "ws";
import type { Settings } from "./config/settings";
import { clientInfo, forwardedClientIp, ipLimitKey } from "./core/client-info";
import { AuthError } from "./core/errors";
import type { ClientInfo } from "./core/ports";
import type { GatewayContext } from "./graphql/context";
import { documentCache } from "./graphql/document-cache";
import { logUnexpected } from "./graphql/format-error";
import { prepareOperation } from "./graphql/ws-operation";
import { serveGraphqlWs } from "./graphql-ws-transport";
import type { Logger } from "./infra/log/logger";

/** The HTTP side's limits and error masking, which WebSocket operations get too. */
export interface WsOperationRules {
  production: boolean;
  maxTokens: number;
  limitRules: ValidationRule[];
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
}

/** An operation's context: who connected, its request id, the connection's authorization. */
export type WsContext = (client: ClientInfo, requestId: string, authorization: unknown) => Promise<GatewayContext>;

/** graphql-ws on /graphql: origin check, slot caps, the same limits, masking and logging as HTTP. */
export function graphqlOverWebSocket(httpServer: http.Server, schema: GraphQLSchema, settings: Settings, rules: WsOperationRules, contextFor: WsContext, log: Logger) {
  const { production, maxTokens, limitRules, formatError } = rules;
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: "/graphql",
    maxPayload: 64 * 1024,
    // Cross-site WebSocket hijacking: a browser page from another origin may not connect.
    // Then the address's cap: 429 before the upgrade. ws completes an accepted upgrade in the
    // same tick, so the check and the count (on "connection") cannot be raced: done() must
    // stay synchronous (no await in here).
    verifyClient: ({ origin, req }: { origin?: string; req: http.IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: http.OutgoingHttpHeaders) => void) => {
      if (origin && !settings.allowedOrigins.includes(origin)) return done(false, 401);
      if (connections.full(addressOf(req))) return done(false, 429, "Too many connections from one address", { "Retry-After": "60" });
      done(true);
    },
  });
  const addressOf = (req: http.IncomingMessage) => ipLimitKey(forwardedClientIp(req, settings.trustProxy));
  const connections = perAddressCount(settings.graphql.maxConnectionsPerIp);
  // Shared ASTs for repeated subscriptions, with the HTTP side's limits (and no introspection in production).
  const documents = documentCache({ extraRules: [...limitRules, ...(production ? [NoSchemaIntrospectionCustomRule] : [])], maxTokens });
  // The longest a live operation holds its slot: a magic-link status ends when its link expires.
  const longestOperationSeconds = settings.magicLink.ttlSeconds + 5;
  const caps = subscriptionCaps(settings.graphql.maxSubscriptionsPerConnection, settings.graphql.maxSubscriptionsPerIp, longestOperationSeconds);
  const wsCleanup = serveGraphqlWs<Record<string, unknown>, WsConnectionState>(
    wsServer,
    {
      schema,
      connectionInitWaitTimeout: 10_000,
      // Parsed, validated and coerced before a slot is taken: a refused operation holds none.
      onSubscribe: (ctx, id, payload) => {
        const prepared = prepareOperation(documents, schema, payload);
        if (Array.isArray(prepared)) return prepared;
        const refused = caps.admit(ctx.extra, id);
        if (refused) return refused;
        // graphql-ws keeps the subscribe message while the operation lives: it holds the
        // cached document's text, not its own copy of the same text.
        (payload as { query: string }).query = prepared.document.loc?.source.body ?? payload.query;
        return prepared;
      },
      // Every way an operation ends frees its slot: completion, an error, the socket closing.
      onComplete: (ctx, id) => caps.release(ctx.extra, id),
      onClose: (ctx) => caps.releaseAll(ctx.extra),
      context: (ctx, id) => contextFor(ctx.extra.client, ctx.extra.active?.get(id) ?? randomUUID(), ctx.connectionParams?.authorization),
      // Subscriptions get the same masking, codes and logging as HTTP.
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors) return result;
        logUnexpected(log, result.errors, ctx.extra.active?.get(id));
        return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) };
      },
      onError: (ctx, id, _payload, errors) => {
        logUnexpected(log, errors, ctx.extra.active?.get(id));
        caps.release(ctx.extra, id);
        return errors.map((e) => formatError(e.toJSON(), e));
      },
    },
    // What the upgrade request tells, kept; the request itself (headers and all) is let go:
    // a device may wait on its socket for minutes, thousands at a time. The connection
    // counts against its address until it closes.
    (socket, request) => {
      const client = clientInfo(forwardedClientIp(request, settings.trustProxy), request.headers["user-agent"]);
      const address = ipLimitKey(client.ip);
      connections.add(address);
      socket.once("close", () => connections.remove(address));
      return { client, address };
    },
    log,
    settings.graphql.keepAliveSeconds * 1000,
  );
  return { documents, dispose: () => wsCleanup.dispose() };
}

/** What the gateway keeps per WebSocket connection. */
type WsConnectionState = {
  /** Who connected, read from the upgrade request. */
  client: ClientInfo;
  /** What connections and operations count against (an IPv6 client by its /64). */
  address: string;
  /** Operation ids holding a slot, each with its request id (for the log). */
  active?: Map<string, string>;
};

/**
 * Caps on live WebSocket operations, per connection and per client IP, so one client
 * cannot hold unbounded server state (each waiting subscription costs memory).
 * `retryAfter` is when a slot is sure to be free: the longest an operation lives.
 */
function subscriptionCaps(perConnection: number, perIp: number, longestOperationSeconds: number) {
  const byIp = perAddressCount(perIp);
  const refuse = (message: string) => [
    new GraphQLError(message, { originalError: new AuthError("RATE_LIMITED", message, { retryAfter: longestOperationSeconds }) }),
  ];
  const release = (conn: WsConnectionState, id: string): void => {
    if (!conn.active?.delete(id)) return;
    byIp.remove(conn.address);
  };
  return {
    admit(conn: WsConnectionState, id: string): readonly GraphQLError[] | void {
      const active = (conn.active ??= new Map());
      if (active.size >= perConnection) return refuse(`At most ${perConnection} operations at once on one connection.`);
      if (byIp.full(conn.address)) return refuse(`At most ${perIp} operations at once from one address.`);
      active.set(id, keptRequestId());
      byIp.add(conn.address);
    },
    release,
    releaseAll(conn: WsConnectionState): void {
      for (const id of [...(conn.active?.keys() ?? [])]) release(conn, id);
    },
  };
}

/** Counts per address (open connections, live operations), against a cap. */
function perAddressCount(max: number) {
  const open = new Map<string, number>();
  return {
    full: (address: string) => (open.get(address) ?? 0) >= max,
    add: (address: string) => void open.set(address, (open.get(address) ?? 0) + 1),
    remove(address: string) {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    },
  };
}

/**
 * A request id kept for as long as its operation lives. randomUUID() returns a string built
 * of ~18 concatenated pieces, ~490 bytes of heap while kept; this flat copy is ~66.
 */
const keptRequestId = (): string => Buffer.from(randomUUID(), "latin1").toString("latin1");
