import http from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import cors from "cors";
import express from "express";
import { timingSafeEqual } from "node:crypto";
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from "graphql";
import type { Settings } from "./config/settings";
import { systemClock, type AuditLog, type ClientInfo, type Clock, type DeliveryQueue, type EventBus, type KeyValueStore, type Repositories } from "./core/ports";
import { clientInfo } from "./core/client-info";
import { ERROR_CODES } from "./core/errors";
import { withinDeadline } from "./core/deadline";
import { RateLimiter } from "./core/rate-limit";
import { lazyRequestHelpers, type GatewayContext } from "./graphql/context";
import { formatError as formatKnownError, logUnexpected, withoutSuggestions } from "./graphql/format-error";
import { httpDocumentStore, httpPersistedQueryStore, type DocumentCache } from "./graphql/document-cache";
import { operationLimitRules } from "./graphql/limits";
import { coerceVariables } from "./graphql/variables";
import { buildServedSchema } from "./schema";
import type { Logger } from "./infra/log/logger";
import { LAZY_LOG, namedOnceKnown, operationOf, requestLogs, type LazyLog } from "./request-logs";
import type { BacklogSource, PrometheusMetrics } from "./infra/metrics/prometheus.metrics";
import { countSignInAttempts } from "./graphql/sign-in-attempts";
import { enabledSecondFactors, secondFactorsFor, waysInFor } from "./core/auth-method";
import { METHODS, SECOND_FACTORS, type MethodDeps } from "./methods";
import { RecoveryCodes } from "./methods/recovery-codes/recovery-codes";
import { AuthTokensResolver, SessionResolver } from "./sessions/session.resolver";
import { refreshCookieFor } from "./sessions/refresh-cookie";
import { RevocationMarkers } from "./sessions/revocation-markers";
import { SessionService } from "./sessions/session.service";
import { discoveryDocument } from "./sessions/discovery";
import { deriveSecret, type KeyRing } from "./sessions/signing-keys";
import { TokenService } from "./sessions/tokens";
import { UserResolver } from "./users/user.resolver";
import { AccountService } from "./users/account.service";
import { UserService } from "./users/user.service";
import { isDependencyOutage } from "./core/outage";
import type { Principal } from "./core/auth";
import { httpDrain, type HttpDrain } from "./http-drain";
import { graphqlOverWebSocket } from "./graphql-over-websocket";
import { listenOn, metricsListener } from "./metrics-listener";

/** Everything the gateway runs on, opened by main.ts (or a test) and closed by it too. */
export interface Infrastructure {
  /** Every table's port over one database (infra/db prismaRepositories). */
  repositories: Repositories;
  /** Already counted (infra/metrics countedAuditLog), like the delivery queue's. */
  audit: AuditLog;
  store: KeyValueStore;
  bus: EventBus;
  /** With `backlog()`, its depth is served as a gauge. */
  delivery: DeliveryQueue & Partial<BacklogSource>;
  keyRing: KeyRing;
  /** Serves the development outbox at GET /dev/outbox (never mounted in production). */
  devOutbox?: express.RequestHandler;
  /**
   * Readiness probes, by name ("postgres", "redis"): resolving is "ok", or the state to
   * show instead ("embedded" for PGlite, "in-process" for the memory store); rejecting is "down".
   */
  readiness: Record<string, () => Promise<void | string>>;
  /** Counters and histograms; served at GET /metrics on METRICS_PORT when that is set. */
  metrics: PrometheusMetrics;
}

export interface Gateway {
  readonly httpServer: http.Server;
  readonly schema: GraphQLSchema;
  /** The parsed documents kept for HTTP (Apollo's store) and WebSocket operations; APQ's registered texts. */
  readonly documents: { http: ReturnType<typeof httpDocumentStore>; ws: DocumentCache; persisted: ReturnType<typeof httpPersistedQueryStore> };
  /** Also opens the metrics listener when METRICS_PORT is set; resolves the public port. */
  listen(port: number, host?: string): Promise<number>;
  /** The metrics listener's port once listening; null when METRICS_PORT is unset. */
  metricsPort(): number | null;
  /**
   * Fails /readyz for SHUTDOWN_READINESS_DELAY_SECONDS while serving on (each answer with
   * `Connection: close`), then stops accepting, finishes in-flight requests, closes
   * WebSockets. Infra stays open.
   */
  close(): Promise<void>;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/** Builds the services, the schema and the HTTP + WebSocket server around them. */
export async function createGateway(settings: Settings, infra: Infrastructure, log: Logger, clock: Clock = systemClock): Promise<Gateway> {
  const services = createServices(settings, infra, log, clock);
  const schema = await buildServedSchema(services.resolvers);
  countSignInAttempts(schema, new Map(METHODS.flatMap((m) => Object.entries(m.signIns ?? {}))), infra.metrics);
  const operations = operationRules(settings);
  const contexts = contextBuilder(settings, infra, services.sessions, log);
  const web = httpApp(settings, infra, log, services.routes);
  const ws = graphqlOverWebSocket(web.httpServer, schema, settings, operations, contexts.ws, log);
  const readinessDelayMs = settings.shutdownReadinessDelaySeconds * 1000;
  // What is left of SHUTDOWN_TIMEOUT_SECONDS after the readiness delay, less 1 s to close Redis and Postgres.
  const drainGraceMs = Math.max(1000, settings.shutdownTimeoutSeconds * 1000 - readinessDelayMs - 1000);
  const drainServer = async () => void (await Promise.all([web.drain.close(web.httpServer, drainGraceMs), ws.dispose()]));
  const overHttp = await graphqlOverHttp(web.app, schema, settings, operations, contexts, infra.metrics, log, drainServer);
  otherRoutes(web.app, web.drain, settings, infra, log, services.routes);

  // Last: body-parser refusals and anything unhandled answer JSON, never Express's HTML page.
  web.app.use(jsonErrors());

  const metricsServer = settings.metrics ? metricsListener(infra, log) : null;

  // Stopped by close(). The start sync writes the markers a crash may have left out.
  services.markers.start();
  return {
    httpServer: web.httpServer,
    schema,
    documents: { http: overHttp.documents, ws: ws.documents, persisted: overHttp.persistedQueries },
    listen: async (port, host) => {
      const listening = await listenOn(web.httpServer, port, host);
      if (metricsServer && settings.metrics) {
        const at = await listenOn(metricsServer, settings.metrics.port, settings.metrics.host);
        log.info({ port: at, host: settings.metrics.host }, "metrics at /metrics");
      }
      return listening;
    },
    metricsPort: () => (metricsServer?.listening ? (metricsServer.address() as { port: number }).port : null),
    close: async () => {
      web.drain.begin();
      if (readinessDelayMs > 0) {
        log.info({ seconds: settings.shutdownReadinessDelaySeconds }, "draining: /readyz answers 503, requests still served");
        await new Promise((resolve) => setTimeout(resolve, readinessDelayMs));
      }
      await overHttp.apollo.stop();
      await services.markers.stop();
      if (metricsServer?.listening) await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    },
  };
}

type MethodRoutes = Array<[string, express.RequestHandler]>;

/** The spine's services, every method's (through MethodDeps), and the resolver instances over them. */
function createServices(settings: Settings, infra: Infrastructure, log: Logger, clock: Clock) {
  const { repositories } = infra;
  const tokens = new TokenService(infra.keyRing, {
    issuer: settings.publicUrl,
    audience: settings.jwt.audience,
    accessTtlSeconds: settings.jwt.accessTtlSeconds,
  });
  const markers = new RevocationMarkers({ sessions: repositories.sessions, store: infra.store, audit: infra.audit, clock, log, accessTtlSeconds: tokens.accessTtlSeconds });
  const sessions = new SessionService({
    sessions: repositories.sessions,
    tokens,
    store: infra.store,
    markers,
    audit: infra.audit,
    metrics: infra.metrics,
    clock,
    refreshTtlSeconds: settings.jwt.refreshTtlSeconds,
    lifetimes: settings.session,
    // Turned off by a setting (SMS_ENABLED=false): never offered, though accounts still have it.
    secondFactors: secondFactorsFor(enabledSecondFactors(SECOND_FACTORS, settings), repositories),
  });
  const routes: MethodRoutes = [];
  const deps: MethodDeps = {
    settings,
    repositories,
    sessions,
    accounts: new AccountService({ users: repositories.users, sessions, audit: infra.audit, clock }),
    recoveryCodes: new RecoveryCodes(repositories.recoveryCodes, clock),
    waysIn: waysInFor(METHODS, repositories, settings),
    routes: { add: (path, handler) => routes.push([path, handler]) },
    store: infra.store,
    bus: infra.bus,
    delivery: infra.delivery,
    limiter: new RateLimiter(infra.store, infra.metrics),
    audit: infra.audit,
    metrics: infra.metrics,
    clock,
    log,
    secret: (purpose) => deriveSecret(infra.keyRing.signing, purpose),
  };
  const resolvers = [
    new UserResolver(new UserService(repositories.users)),
    new SessionResolver(sessions),
    new AuthTokensResolver(),
    ...METHODS.flatMap((m) => m.create(deps, settings)),
  ];
  return { sessions, markers, routes, resolvers };
}

/** What every operation is held to, over HTTP and WebSocket alike: limits (graphql/limits.ts) and error masking. */
function operationRules(settings: Settings) {
  const production = settings.env === "production";
  return {
    production,
    maxTokens: settings.graphql.maxTokens,
    limitRules: operationLimitRules({ ...settings.graphql, maxAuthMutations: settings.graphql.maxAuthMutationsPerOperation }),
    formatError: production
      ? (formatted: GraphQLFormattedError, error: unknown) => withoutSuggestions(formatKnownError(formatted, error))
      : formatKnownError,
  };
}
type OperationRules = ReturnType<typeof operationRules>;

/** The one place a GatewayContext is made, for an HTTP request or a WebSocket operation. */
function contextBuilder(settings: Settings, infra: Infrastructure, sessions: SessionService, log: Logger) {
  const isFederationCaller = federationCallerCheck(settings);
  const refreshCookieOptions = {
    ...settings.jwt.refreshCookie,
    maxAgeSeconds: settings.jwt.refreshTtlSeconds,
    allowedOrigins: settings.allowedOrigins,
  };
  const principalFrom = async (authorization: unknown): Promise<Principal | null> => {
    const match = typeof authorization === "string" ? BEARER.exec(authorization) : null;
    return match ? sessions.authenticate(match[1]) : null;
  };
  const helpers = lazyRequestHelpers(infra.repositories.users);
  // An HTTP context's log too is made when first read (request-logs LAZY_LOG).
  const httpContext = Object.freeze(Object.create(helpers, Object.getOwnPropertyDescriptors(LAZY_LOG))) as object;
  return {
    http: async ({ req, res }: { req: express.Request; res: express.Response }): Promise<GatewayContext> => {
      const operation = operationOf(req);
      const fields: Omit<GatewayContext, "log" | "users" | "memo"> & LazyLog = {
        requestId: req.id,
        client: clientInfo(req.ip, req.headers["user-agent"]),
        logOf: namedOnceKnown(() => req.log, operation),
        operation,
        principal: await principalFrom(req.headers.authorization),
        refreshCookie: refreshCookieFor(req, res, refreshCookieOptions),
        federationCaller: isFederationCaller(req.headers["x-federation-secret"]),
      };
      return Object.assign(Object.create(httpContext) as GatewayContext, fields);
    },
    ws: (client: ClientInfo, requestId: string, authorization: unknown): Promise<GatewayContext> =>
      withPrincipal(
        Object.assign(Object.create(helpers) as GatewayContext, {
          requestId,
          client,
          log,
          principal: null,
          // Routers call over HTTP with their secret; in production never over a WebSocket.
          federationCaller: settings.env !== "production",
        }),
        principalFrom(authorization),
      ),
  };
}
type ContextBuilder = ReturnType<typeof contextBuilder>;

/** The Express app and HTTP server, with what runs before every route: latency metrics, request ids and logs. */
function httpApp(settings: Settings, infra: Infrastructure, log: Logger, methodRoutes: MethodRoutes) {
  const app = express();
  app.disable("x-powered-by");
  // Hop count or proxy list (never "trust all"): req.ip is the right-most untrusted X-Forwarded-For entry.
  app.set("trust proxy", settings.trustProxy);
  const drain = httpDrain(app);
  const httpServer = http.createServer(drain.listener);

  // Latency by route: known paths only, so scanners' URLs cannot mint labels.
  const knownRoutes = ["/graphql", "/healthz", "/readyz", "/.well-known/jwks.json", "/.well-known/openid-configuration", "/dev/outbox", ...methodRoutes.map(([p]) => p)];
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    // Read now: routers mounted on a path rewrite req.path while they run.
    const path = req.path;
    const route = knownRoutes.find((r) => path === r || path.startsWith(`${r}/`)) ?? "other";
    res.once("finish", () => {
      infra.metrics.observeHttpRequest(req.method, route, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  });

  app.use(requestLogs(log));
  return { app, httpServer, drain };
}

/** Every route but /graphql's, mounted after it: each request walks the routes in order, and nearly all are GraphQL. */
function otherRoutes(app: express.Express, drain: HttpDrain, settings: Settings, infra: Infrastructure, log: Logger, methodRoutes: MethodRoutes) {
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", async (_req, res) => {
    // Shutting down: the load balancer stops sending new requests while these are served.
    if (drain.draining) {
      res.status(503).json({ status: "draining", checks: {} });
      return;
    }
    const checks = await Promise.all(
      Object.entries(infra.readiness).map(async ([name, probe]) => {
        try {
          return [name, (await withinDeadline(2000, () => probe())) || "ok"] as const;
        } catch (e) {
          log.warn({ err: e, dependency: name }, "readiness probe failed");
          return [name, "down"] as const;
        }
      }),
    );
    const ready = checks.every(([, state]) => state !== "down");
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "unavailable", checks: Object.fromEntries(checks) });
  });

  app.get("/.well-known/jwks.json", (_req, res) => {
    // Verifiers cache the keys; a rotation publishes the next key before it signs.
    res.set("Cache-Control", "public, max-age=300").json(infra.keyRing.jwks());
  });
  app.get("/.well-known/openid-configuration", (_req, res) => {
    res.set("Cache-Control", "public, max-age=300").json(discoveryDocument(settings.publicUrl, settings.jwt.audience));
  });

  if (infra.devOutbox && settings.env !== "production") app.use("/dev/outbox", infra.devOutbox);
  for (const [path, handler] of methodRoutes) app.use(path, handler);
}

/** Apollo Server on POST/GET /graphql, behind CORS and a JSON body limit. */
async function graphqlOverHttp(
  app: express.Express,
  schema: GraphQLSchema,
  settings: Settings,
  rules: OperationRules,
  contexts: ContextBuilder,
  metrics: PrometheusMetrics,
  log: Logger,
  drainServer: () => Promise<void>,
) {
  const { production, maxTokens, limitRules, formatError } = rules;
  const httpDocuments = httpDocumentStore();
  const persistedQueries = httpPersistedQueryStore();
  const apollo = new ApolloServer<GatewayContext>({
    schema,
    formatError,
    documentStore: httpDocuments,
    persistedQueries: { cache: persistedQueries },
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    // Parsing stops at MAX_TOKENS, which also bounds what graphql-js's own rules can cost.
    parseOptions: { maxTokens },
    // Apollo's own messages go through pino as JSON lines too.
    logger: apolloLogger(log),
    // main.ts owns the signals: it closes the server, then Redis and Postgres, then exits.
    stopOnTerminationSignals: false,
    validationRules: limitRules,
    plugins: [
      // Per-resolver timings for anyone sending `apollo-federation-include-trace`: opt-in only.
      ...(settings.graphql.inlineTrace ? [] : [ApolloServerPluginInlineTraceDisabled()]),
      // No answer here may be cached (who asks decides it), and the plugin's per-field hooks cost every request.
      ApolloServerPluginCacheControlDisabled(),
      coerceVariablesWithoutEcho(),
      { serverWillStart: async () => ({ drainServer }) },
      logUnexpectedErrors(),
      operationMetrics(metrics),
    ],
  });
  await apollo.start();

  app.use(
    "/graphql",
    cors<cors.CorsRequest>({ origin: settings.allowedOrigins, credentials: true, maxAge: 600 }),
    express.json({ limit: "100kb" }),
    // What Apollo's cache-control plugin wrote on every answer (it is off): tokens are never cached.
    (_req: express.Request, res: express.Response, next: express.NextFunction) => {
      res.setHeader("Cache-Control", "no-store");
      next();
    },
    expressMiddleware(apollo, { context: contexts.http }),
  );
  return { apollo, documents: httpDocuments, persistedQueries };
}

/**
 * Names the operation on the request's log lines and times it by name and type. A name
 * counts only once the operation parsed and validated; until then it is "unknown".
 */
function operationMetrics(metrics: PrometheusMetrics): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: async ({ contextValue }) => {
      const started = process.hrtime.bigint();
      let resolved = false;
      return {
        didResolveOperation: async ({ operation, operationName }) => {
          if (!operation) return;
          resolved = true;
          const label = contextValue.operation;
          if (label) {
            label.operationName = operationName ?? undefined;
            label.operationType = operation.operation;
          }
        },
        willSendResponse: async ({ operationName, operation }) => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.observeGraphqlOperation(resolved ? (operationName ?? undefined) : null, resolved ? operation?.operation : null, seconds);
        },
      };
    },
  };
}

/** The caller may use `_service` and `_entities`: anyone outside production, else by FEDERATION_SECRET. */
function federationCallerCheck(settings: Settings): (given: unknown) => boolean {
  if (settings.env !== "production") return () => true;
  const secret = settings.graphql.federationSecret;
  if (!secret) return () => false;
  const expected = Buffer.from(secret);
  return (given) => {
    if (typeof given !== "string") return false;
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  };
}

/**
 * Coerces the variables before execution with messages that never echo a value
 * (graphql/variables.ts); graphql-js's own pass then has nothing left to refuse.
 */
function coerceVariablesWithoutEcho(): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ schema, operation, request }) => {
        if (!operation) return;
        const coerced = coerceVariables(schema, operation.variableDefinitions ?? [], request.variables ?? {});
        if ("errors" in coerced) {
          const [first] = coerced.errors;
          throw new GraphQLError(first.message, { nodes: first.nodes, extensions: { ...first.extensions, http: { status: 400 } } });
        }
      },
    }),
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

/** Logs what a request hit that it should not have (see logUnexpected). */
function logUnexpectedErrors(): ApolloServerPlugin<GatewayContext> {
  return {
    requestDidStart: async () => ({
      didEncounterErrors: async ({ errors, contextValue }) => logUnexpected(contextValue.log, errors, contextValue.requestId),
    }),
  };
}

/**
 * Sets the caller once authenticated. A store outage while authenticating would escape
 * graphql-ws' context hook as a 4500 close carrying the driver's message; instead it is
 * thrown where the operation reads the principal, so the client gets UNAVAILABLE (with
 * `retryAfter`) like over HTTP, and the socket stays open.
 */
async function withPrincipal(context: GatewayContext, lookup: Promise<Principal | null>): Promise<GatewayContext> {
  try {
    context.principal = await lookup;
  } catch (error) {
    if (!isDependencyOutage(error)) throw error;
    Object.defineProperty(context, "principal", {
      get: () => {
        throw error;
      },
    });
  }
  return context;
}

/**
 * Errors no route answered, as GraphQL-shaped JSON with the right status: bad JSON (400),
 * a body over the limit (413), other client errors by their status, and the rest masked
 * (500, logged whole). Express's default page would show a stack outside production.
 */
function jsonErrors(): express.ErrorRequestHandler {
  return (err: { status?: unknown; type?: unknown }, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = typeof err.status === "number" && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) req.log.error({ err }, "unexpected error");
    const message =
      err.type === "entity.parse.failed"
        ? "The request body is not valid JSON."
        : err.type === "entity.too.large"
          ? "The request body is too large (at most 100kb)."
          : status === 500
            ? ERROR_CODES.INTERNAL_SERVER_ERROR
            : "The request could not be read.";
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST" } }] });
  };
}
