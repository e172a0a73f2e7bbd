import { randomUUID } from "node:crypto";
import http from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { expressMiddleware } from "@as-integrations/express5";
import cors from "cors";
import express from "express";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { pinoHttp } from "pino-http";
import { WebSocketServer } from "ws";
import type { Settings } from "./config/settings";
import { systemClock, type AuditLog, type Clock, type DeliveryQueue, type EventBus, type KeyValueStore, type RecoveryCodeRepo, type SessionRepo, type TotpRepo, type UserRepo } from "./core/ports";
import { clientInfo, plainIp } from "./core/client-info";
import { RateLimiter } from "./core/rate-limit";
import { userLoader, type GatewayContext } from "./graphql/context";
import { registerResolvers, resolversOf } from "./graphql/schema-registry";
import { toSubgraphSchema } from "./federation/subgraph";
import { contractError, formatError } from "./graphql/format-error";
import { documentCache } from "./graphql/document-cache";
import { maxAuthMutations } from "./graphql/limits";
import { buildGatewaySchema } from "./graphql/schema";
import { redactUrl, type Logger } from "./infra/log/logger";
import { METHODS, type MethodDeps } from "./methods";
import { AuthTokensResolver, SessionResolver } from "./sessions/session.resolver";
import { refreshCookieFor } from "./sessions/refresh-cookie";
import { SessionService, type Principal } from "./sessions/session.service";
import { deriveSecret, type KeyRing } from "./sessions/signing-keys";
import { TokenService } from "./sessions/tokens";
import { UserResolver } from "./users/user.resolver";
import { AccountService } from "./users/account.service";
import { UserService } from "./users/user.service";
import { RecoveryCodes } from "./core/recovery-codes";

/** Everything the gateway runs on, opened by main.ts (or a test) and closed by it too. */
export interface Infrastructure {
  users: UserRepo;
  sessions: SessionRepo;
  totpFactors: TotpRepo;
  recoveryCodes: RecoveryCodeRepo;
  audit: AuditLog;
  store: KeyValueStore;
  bus: EventBus;
  delivery: DeliveryQueue;
  keyRing: KeyRing;
  /** Serves the development outbox at GET /dev/outbox (never mounted in production). */
  devOutbox?: express.RequestHandler;
  /** Readiness probes, by name ("postgres", "redis"). */
  readiness: Record<string, () => Promise<void>>;
}

export interface Gateway {
  readonly httpServer: http.Server;
  readonly schema: GraphQLSchema;
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, finishes in-flight requests, closes WebSockets. Infra stays open. */
  close(): Promise<void>;
}

const BEARER = /^Bearer\s+(\S+)$/i;
const REQUEST_ID = /^[\w.:-]{1,64}$/;

/** Builds the services, the schema and the HTTP + WebSocket server around them. */
export async function createGateway(settings: Settings, infra: Infrastructure, log: Logger, clock: Clock = systemClock): Promise<Gateway> {
  const tokens = new TokenService(infra.keyRing, {
    issuer: settings.publicUrl,
    audience: settings.jwt.audience,
    accessTtlSeconds: settings.jwt.accessTtlSeconds,
  });
  const sessions = new SessionService({
    sessions: infra.sessions,
    tokens,
    store: infra.store,
    audit: infra.audit,
    clock,
    refreshTtlSeconds: settings.jwt.refreshTtlSeconds,
    lifetimes: settings.session,
  });
  const methodRoutes: Array<[string, express.RequestHandler]> = [];
  const deps: MethodDeps = {
    settings,
    users: infra.users,
    sessions,
    accounts: new AccountService({ users: infra.users, sessions, audit: infra.audit }),
    routes: { add: (path, handler) => methodRoutes.push([path, handler]) },
    totpFactors: infra.totpFactors,
    recoveryCodes: new RecoveryCodes(infra.recoveryCodes, clock),
    store: infra.store,
    bus: infra.bus,
    delivery: infra.delivery,
    limiter: new RateLimiter(infra.store),
    audit: infra.audit,
    clock,
    log,
    secret: (purpose) => deriveSecret(infra.keyRing.signing, purpose),
  };
  const apiSchema = await buildGatewaySchema([
    new UserResolver(new UserService(infra.users)),
    new SessionResolver(sessions),
    new AuthTokensResolver(),
    ...METHODS.flatMap((m) => m.create(deps)),
  ], infra.bus);
  // What is served: the same schema as a Federation 2 subgraph (User is an entity).
  const schema = toSubgraphSchema(apiSchema);
  registerResolvers(schema, resolversOf(apiSchema));

  const principalFrom = async (authorization: unknown): Promise<Principal | null> => {
    const match = typeof authorization === "string" ? BEARER.exec(authorization) : null;
    return match ? sessions.authenticate(match[1]) : null;
  };

  // One validation limit for HTTP and WebSocket operations alike.
  const authMutationLimit = maxAuthMutations(settings.graphql.maxAuthMutationsPerOperation);
  const refreshCookieOptions = {
    ...settings.jwt.refreshCookie,
    maxAgeSeconds: settings.jwt.refreshTtlSeconds,
    allowedOrigins: settings.allowedOrigins,
  };

  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", settings.trustProxy);
  const httpServer = http.createServer(app);

  app.use(
    pinoHttp({
      logger: log,
      genReqId: (req, res) => {
        const given = req.headers["x-request-id"];
        const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader("X-Request-Id", id);
        return id;
      },
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
      },
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/readyz" },
    }),
  );

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(infra.readiness).map(async ([name, probe]) => {
        try {
          await withTimeout(probe(), 2000);
          return [name, "ok"] as const;
        } catch (e) {
          log.warn({ err: e, dependency: name }, "readiness probe failed");
          return [name, "down"] as const;
        }
      }),
    );
    const ready = checks.every(([, state]) => state === "ok");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "unavailable", checks: Object.fromEntries(checks) });
  });

  app.get("/.well-known/jwks.json", (_req, res) => {
    // Verifiers cache the keys; a rotation publishes the next key before it signs.
    res.set("Cache-Control", "public, max-age=300").json(infra.keyRing.jwks());
  });

  if (infra.devOutbox && settings.env !== "production") app.use("/dev/outbox", infra.devOutbox);
  for (const [path, handler] of methodRoutes) app.use(path, handler);

  const wsServer = new WebSocketServer({
    server: httpServer,
    path: "/graphql",
    maxPayload: 64 * 1024,
    // Cross-site WebSocket hijacking: a browser page from another origin may not connect.
    verifyClient: ({ origin }: { origin?: string }) => !origin || settings.allowedOrigins.includes(origin),
  });
  // Shared ASTs for repeated subscriptions, validated with the HTTP side's limit too.
  const documents = documentCache([authMutationLimit]);
  const caps = subscriptionCaps(settings.graphql.maxSubscriptionsPerConnection, settings.graphql.maxSubscriptionsPerIp);
  const wsCleanup = useServer<Record<string, unknown>, { active?: Set<string> }>(
    {
      schema,
      parse: documents.parse,
      validate: documents.validate,
      connectionInitWaitTimeout: 10_000,
      onSubscribe: (ctx, id) => caps.admit(ctx.extra, wsClientIp(ctx.extra.request, settings.trustProxy) ?? "unknown", id),
      onComplete: (ctx, id) => caps.release(ctx.extra, wsClientIp(ctx.extra.request, settings.trustProxy) ?? "unknown", id),
      context: async (ctx): Promise<GatewayContext> => {
        const req = ctx.extra.request;
        return {
          requestId: randomUUID(),
          principal: await principalFrom(ctx.connectionParams?.authorization),
          client: clientInfo(wsClientIp(req, settings.trustProxy), req.headers["user-agent"]),
          log,
          users: userLoader(infra.users),
        };
      },
      // Subscriptions get the same masking and codes as HTTP.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : result,
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<GatewayContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    // Apollo's own messages go through pino as JSON lines too.
    logger: apolloLogger(log),
    // main.ts owns the signals: it closes the server, then Redis and Postgres, then exits.
    stopOnTerminationSignals: false,
    validationRules: [authMutationLimit],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: settings.shutdownTimeoutSeconds * 1000 - 1000 }),
      { serverWillStart: async () => ({ drainServer: async () => wsCleanup.dispose() }) },
      logUnexpectedErrors(),
    ],
  });
  await apollo.start();

  app.use(
    "/graphql",
    cors<cors.CorsRequest>({ origin: settings.allowedOrigins, credentials: true, maxAge: 600 }),
    express.json({ limit: "100kb" }),
    expressMiddleware(apollo, {
      context: async ({ req, res }): Promise<GatewayContext> => ({
        requestId: String(req.id),
        principal: await principalFrom(req.headers.authorization),
        client: clientInfo(req.ip, req.headers["user-agent"]),
        log: req.log,
        users: userLoader(infra.users),
        refreshCookie: refreshCookieFor(req, res, refreshCookieOptions),
      }),
    }),
  );

  return {
    httpServer,
    schema,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          resolve((httpServer.address() as { port: number }).port);
        });
      }),
    close: () => apollo.stop(),
  };
}

/**
 * Caps on live WebSocket operations, per connection and per client IP, so one client
 * cannot hold unbounded server state (each waiting subscription costs memory).
 */
function subscriptionCaps(perConnection: number, perIp: number) {
  const byIp = new Map<string, number>();
  const refuse = (message: string) => [new GraphQLError(message, { extensions: { code: "RATE_LIMITED", retryAfter: 1 } })];
  return {
    admit(conn: { active?: Set<string> }, ip: string, id: string): readonly GraphQLError[] | void {
      const active = (conn.active ??= new Set());
      if (active.size >= perConnection) return refuse(`At most ${perConnection} operations at once on one connection.`);
      const count = byIp.get(ip) ?? 0;
      if (count >= perIp) return refuse(`At most ${perIp} operations at once from one address.`);
      active.add(id);
      byIp.set(ip, count + 1);
    },
    release(conn: { active?: Set<string> }, ip: string, id: string): void {
      if (!conn.active?.delete(id)) return;
      const left = (byIp.get(ip) ?? 1) - 1;
      if (left > 0) byIp.set(ip, left);
      else byIp.delete(ip);
    },
  };
}

function apolloLogger(log: Logger) {
  return {
    debug: (msg: string) => log.debug(msg),
    info: (msg: string) => log.info(msg),
    warn: (msg: string) => log.warn(msg),
    error: (msg: string) => log.error(msg),
  };
}

/** Unexpected errors are masked for the client; here they are logged whole, with the request id. */
function logUnexpectedErrors(): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: async () => ({
      didEncounterErrors: async ({ errors, contextValue }) => {
        for (const error of errors) {
          if (error instanceof GraphQLError && error.originalError && !contractError(error)) {
            contextValue.log.error({ err: error.originalError, requestId: contextValue.requestId, path: error.path }, "unexpected error");
          }
        }
      },
    }),
  };
}

function wsClientIp(req: http.IncomingMessage, trustProxy: boolean): string | null {
  const forwarded = req.headers["x-forwarded-for"];
  if (trustProxy && typeof forwarded === "string") return plainIp(forwarded.split(",")[0].trim());
  return plainIp(req.socket.remoteAddress);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
