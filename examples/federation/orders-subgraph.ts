/**
 * An example "orders" subgraph that extends the gateway's User entity with `orders`.
 *
 * It trusts the gateway's access tokens knowing nothing but the gateway's JWKS URL: the
 * router forwards the caller's `Authorization` header, and this service verifies the
 * ES256 token itself with `jose` (signature against the published keys, `iss`, `aud`,
 * `typ: at+jwt`, expiry). No shared secret, no call to the gateway per request.
 *
 * Run it: `npx tsc -p examples/federation && node examples/federation/dist/orders-subgraph.js`
 * (see README.md for the whole graph).
 */
import { randomUUID } from "node:crypto";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { GraphQLError } from "graphql";
import gql from "graphql-tag";
import { createRemoteJWKSet, errors, jwtVerify } from "jose";

export const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Query {
    "An order by id, as a shared receipt link shows it. Public: what it shows of the buyer is the auth subgraph's call."
    order(id: ID!): Order
  }

  type Mutation {
    "Places an order for the caller (the access token's subject). UNAUTHENTICATED without a valid token."
    placeOrder(total: Float!): Order!
  }

  "The gateway's User, extended here: the auth subgraph owns it, this subgraph adds orders."
  type User @key(fields: "id") {
    id: ID!
    "The user's orders, to the user themself only: for anyone else the list is empty."
    orders: [Order!]!
  }

  type Order {
    id: ID!
    total: Float!
    buyer: User!
  }
`;

/** Who is calling, as a verified access token says. */
export interface Viewer {
  userId: string;
  /** Authenticator assurance level ("aal1", "aal2"): a service can require aal2 for sensitive fields. */
  aal: string;
}

export interface OrdersContext {
  viewer: Viewer | null;
}

export interface TokenTrust {
  /** The gateway's `/.well-known/jwks.json`. */
  jwksUrl: string;
  /** The gateway's PUBLIC_URL (the `iss` of its tokens). */
  issuer: string;
  /** The gateway's JWT_AUDIENCE (`aud`), "graphql" unless configured. */
  audience: string;
}

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Verifies the gateway's access tokens with only its JWKS URL. jose caches the key set and
 * fetches it again when a token names a kid it has not seen (at most every 30 s), so a key
 * the gateway publishes before it signs with it is picked up without a restart.
 */
export function accessTokenVerifier(trust: TokenTrust): (authorization: string | undefined) => Promise<Viewer | null> {
  const keys = createRemoteJWKSet(new URL(trust.jwksUrl));
  return async (authorization) => {
    const token = BEARER.exec(authorization ?? "")?.[1];
    if (!token) return null;
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: trust.issuer,
        audience: trust.audience,
        algorithms: ["ES256"],
        // RFC 9068: the gateway's other tokens (e.g. the MFA step's) have another typ and aud.
        typ: "at+jwt",
      });
      if (typeof payload.sub !== "string") return null;
      return { userId: payload.sub, aal: typeof payload.aal === "string" ? payload.aal : "aal1" };
    } catch (e) {
      // A bad, expired or foreign token is an anonymous caller; a key set we cannot fetch
      // is an outage, and must not quietly sign everyone out.
      if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || !(e instanceof errors.JOSEError)) throw e;
      return null;
    }
  };
}

interface OrderRecord {
  id: string;
  total: number;
  buyerId: string;
}

/** In memory: the example is about trust across subgraphs, not storage. */
function createOrderBook() {
  const byId = new Map<string, OrderRecord>();
  return {
    place(buyerId: string, total: number): OrderRecord {
      const order = { id: randomUUID(), total, buyerId };
      byId.set(order.id, order);
      return order;
    },
    get: (id: string) => byId.get(id) ?? null,
    ofBuyer: (buyerId: string) => [...byId.values()].filter((o) => o.buyerId === buyerId),
  };
}

export function ordersSchema(book = createOrderBook()) {
  return buildSubgraphSchema({
    typeDefs,
    resolvers: {
      Query: {
        order: (_: unknown, args: { id: string }) => book.get(args.id),
      },
      Mutation: {
        placeOrder: (_: unknown, args: { total: number }, ctx: OrdersContext) => {
          if (!ctx.viewer) throw new GraphQLError("Sign in to place an order.", { extensions: { code: "UNAUTHENTICATED" } });
          return book.place(ctx.viewer.userId, args.total);
        },
      },
      User: {
        // The router sends { __typename: "User", id } for users the auth subgraph resolved.
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        orders: (user: { id: string }, _: unknown, ctx: OrdersContext) => (ctx.viewer?.userId === user.id ? book.ofBuyer(user.id) : []),
      },
      Order: {
        buyer: (order: OrderRecord) => ({ id: order.buyerId }),
      },
    } as never,
  });
}

export interface OrdersSubgraph {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4001/graphql. */
  url: string;
  stop(): Promise<void>;
}

/** Starts the subgraph on `port` (0: a free one) of `host` (127.0.0.1 unless given). */
export async function startOrdersSubgraph(opts: TokenTrust & { port: number; host?: string }): Promise<OrdersSubgraph> {
  const verify = accessTokenVerifier(opts);
  const server = new ApolloServer<OrdersContext>({ schema: ordersSchema() });
  const { url } = await startStandaloneServer(server, {
    listen: { port: opts.port, host: opts.host ?? "127.0.0.1" },
    context: async ({ req }) => ({ viewer: await verify(req.headers.authorization) }),
  });
  return { url: new URL("/graphql", url).toString(), stop: () => server.stop() };
}

async function main(): Promise<void> {
  const authUrl = (process.env.AUTH_URL ?? "http://localhost:4000").replace(/\/+$/, "");
  const subgraph = await startOrdersSubgraph({
    port: Number(process.env.PORT ?? 4001),
    host: process.env.HOST ?? "localhost",
    jwksUrl: process.env.JWKS_URL ?? `${authUrl}/.well-known/jwks.json`,
    issuer: process.env.JWT_ISSUER ?? authUrl,
    audience: process.env.JWT_AUDIENCE ?? "graphql",
  });
  console.log(`orders subgraph at ${subgraph.url}, trusting tokens from ${authUrl}`);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void subgraph.stop());
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
