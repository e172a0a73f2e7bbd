import { GraphQLError } from "graphql";
import { DependencyUnavailableError, isDependencyOutage, isDependencyTimeout } from "./outage";

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe("isDependencyOutage", () => {
  it.each([
    ["ioredis commandTimeout", new Error("Command timed out")],
    ["ioredis with the offline queue off", new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ["ioredis giving up reconnecting", Object.assign(new Error("Reached the max retries per request limit (which is 20)."), { name: "MaxRetriesPerRequestError" })],
    ["ioredis Cluster with the offline queue off", new Error("Cluster isn't ready and enableOfflineQueue options is false")],
    ["ioredis Cluster past its redirections", new Error("Too many Cluster redirections. Last error: CLUSTERDOWN")],
    ["ioredis Cluster with no node reachable", new Error("None of startup nodes is available")],
    ["ioredis Cluster without a slot map", new Error("Failed to refresh slots cache.")],
    ["pg query_timeout", new Error("Query read timeout")],
    ["pg-pool connectionTimeoutMillis", new Error("timeout exceeded when trying to connect")],
    ["pg connection lost", new Error("Connection terminated unexpectedly")],
    ["Postgres statement_timeout", withCode("canceling statement due to statement timeout", "57014")],
    ["Postgres shutting down", withCode("terminating connection due to administrator command", "57P01")],
    ["a refused socket", withCode("connect ECONNREFUSED 127.0.0.1:6379", "ECONNREFUSED")],
    ["Prisma: database not reachable", withCode("Can't reach database server", "P1001")],
    ["Prisma: no pool connection in time", withCode("Timed out fetching a new connection", "P2024")],
    ["a driver-adapter error kind", Object.assign(new Error("adapter"), { cause: { kind: "DatabaseNotReachable" } })],
    [
      "a Prisma raw query's adapter error",
      Object.assign(new Error("Raw query failed. Code: `N/A`. Message: `Can't reach database server`"), {
        code: "P2010",
        meta: { driverAdapterError: { name: "DriverAdapterError", cause: { kind: "DatabaseNotReachable" } } },
      }),
    ],
    ["our own", new DependencyUnavailableError("Redis is unavailable")],
    ["wrapped by graphql-js", new GraphQLError("Unexpected error", { originalError: new Error("Command timed out") })],
    ["as a cause", new Error("query failed", { cause: new Error("Query read timeout") })],
    // graphql-js wraps a throw it does not take for an Error (one from another realm, a plain object) as NonErrorThrown.
    ["thrown as a non-Error", new GraphQLError("Unexpected error value", { originalError: Object.assign(new Error("Unexpected error value"), { name: "NonErrorThrown", thrownValue: { code: "ECONNREFUSED" } }) })],
  ])("recognises %s", (_what, error) => {
    expect(isDependencyOutage(error)).toBe(true);
  });

  it.each([
    ["a bug", new TypeError("Cannot read properties of undefined")],
    ["a constraint violation", withCode("duplicate key value violates unique constraint", "23505")],
    ["a Prisma unique violation", withCode("Unique constraint failed", "P2002")],
    ["a raw query's constraint violation", Object.assign(new Error("Raw query failed. Code: `23503`"), { code: "P2010", meta: { driverAdapterError: { cause: { originalCode: "23503", kind: "ForeignKeyConstraintViolation" } } } })],
    ["a Lua script error", new Error("ERR Error running script")],
    ["nothing", undefined],
  ])("does not take %s for an outage", (_what, error) => {
    expect(isDependencyOutage(error)).toBe(false);
  });
});

describe("isDependencyTimeout", () => {
  it("is true for outages where nothing answered in time, false for ones that answered at once", () => {
    expect(isDependencyTimeout(new Error("Query read timeout"))).toBe(true);
    expect(isDependencyTimeout(Object.assign(new Error("canceling statement due to statement timeout"), { code: "57014" }))).toBe(true);
    expect(isDependencyTimeout(new Error("Command timed out"))).toBe(true);
    expect(isDependencyTimeout(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }))).toBe(false);
    expect(isDependencyTimeout(new Error("Connection terminated unexpectedly"))).toBe(false);
    // Not an outage at all, whatever its words.
    expect(isDependencyTimeout(new Error("the user timed out of patience"))).toBe(false);
  });
});
