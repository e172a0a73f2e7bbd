import { randomUUID } from "node:crypto";
import { composeExampleSupergraph } from "../../scripts/federation-compose";
import { composeServices, type CompositionResult } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse } from "graphql";
import { startOrdersSubgraph, type OrdersSubgraph } from "../../examples/federation/orders-subgraph";
import { SignUpDocument } from "../__generated__/graphql";
import { startTestGateway, type GqlResult, type TestGateway } from "../helpers/gateway";

// @apollo/gateway otherwise probes cloud metadata endpoints and reports to Apollo.
process.env.APOLLO_TELEMETRY_DISABLED = "true";

const ISSUER = "https://auth.example.test";

/** What the router keeps of the incoming request for its subgraph fetches. */
interface RouterContext {
  authorization?: string;
}

interface Router {
  url: string;
  stop(): Promise<void>;
}

/** @apollo/gateway over the composed supergraph, forwarding the caller's Authorization to every subgraph. */
async function startRouter(supergraphSdl: string): Promise<Router> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<RouterContext>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set("authorization", context.authorization);
        },
      }),
  });
  const server = new ApolloServer<RouterContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return { url, stop: () => server.stop() };
}

async function post<T = Record<string, any>>(url: string, query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GqlResult<T>;
}

let auth: TestGateway;
let orders: OrdersSubgraph;
let composition: CompositionResult;
let router: Router | undefined;
/** Every UserRepo.findByIds call (one SQL query each), by the ids it was given. */
const findByIdsCalls: Array<readonly string[]> = [];

beforeAll(async () => {
  auth = await startTestGateway({
    env: { PUBLIC_URL: ISSUER },
    override: ({ users }) => ({
      users: new Proxy(users, {
        get(target, prop, receiver) {
          if (prop !== "findByIds") return Reflect.get(target, prop, receiver);
          return (ids: readonly string[]) => {
            findByIdsCalls.push([...ids]);
            return target.findByIds(ids);
          };
        },
      }),
    }),
  });
  orders = await startOrdersSubgraph({ port: 0, jwksUrl: `${auth.url}/.well-known/jwks.json`, issuer: ISSUER, audience: "graphql" });
  const sdlOf = async (url: string) => (await post<{ _service: { sdl: string } }>(url, "{ _service { sdl } }")).data!._service.sdl;
  composition = composeServices([
    { name: "auth", url: `${auth.url}/graphql`, typeDefs: parse(await sdlOf(`${auth.url}/graphql`)) },
    { name: "orders", url: orders.url, typeDefs: parse(await sdlOf(orders.url)) },
  ]);
  if (!composition.errors) router = await startRouter(composition.supergraphSdl);
});

afterAll(async () => {
  await router?.stop();
  await orders?.stop();
  await auth?.close();
});

let n = 0;
async function newAccount() {
  const email = `fed${++n}@example.com`;
  const r = await auth.request(SignUpDocument, { input: { email, password: "correct horse battery" } });
  const p = r.data!.signUp;
  return { email, id: p.user!.id, token: p.tokens!.accessToken };
}

const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { ... on User { id email } } }`;
const asUsers = (ids: string[]) => ids.map((id) => ({ __typename: "User", id }));

describe("the served subgraph", () => {
  it("declares User as an entity keyed by id, under the Federation 2 @link, in _service.sdl", async () => {
    const r = await auth.request<{ _service: { sdl: string } }, never>("{ _service { sdl } }");
    // The printer puts each directive on a line of its own; compare with whitespace collapsed.
    const sdl = r.data!._service.sdl.replace(/\s+/g, " ");
    expect(sdl).toMatch(/extend schema @link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+", import: \[[^\]]*"@key"/);
    expect(sdl).toContain('type User @key(fields: "id") {');
  });
});

describe("_entities", () => {
  it("resolves users in the order asked, null for unknown and malformed ids, with one users query", async () => {
    const [a, b, c] = [await newAccount(), await newAccount(), await newAccount()];
    findByIdsCalls.length = 0;
    const ids = [c.id, a.id, randomUUID(), b.id, "not-a-uuid"];
    const r = await auth.request<{ _entities: Array<{ id: string } | null> }, unknown>(ENTITIES, { representations: asUsers(ids) });
    expect(r.errors).toBeUndefined();
    expect(r.data!._entities.map((u) => u?.id ?? null)).toEqual([c.id, a.id, null, b.id, null]);
    expect(findByIdsCalls).toEqual([ids]);
  });

  it("shows email to the user themself only, never to whoever resolves the reference", async () => {
    const [a, b] = [await newAccount(), await newAccount()];
    const ask = (token?: string) => auth.request<{ _entities: Array<{ email: string | null }> }, unknown>(ENTITIES, { representations: asUsers([a.id, b.id]) }, { token });
    expect((await ask()).data!._entities.map((u) => u.email)).toEqual([null, null]);
    expect((await ask(a.token)).data!._entities.map((u) => u.email)).toEqual([a.email, null]);
  });
});

describe("composition with another subgraph (@apollo/composition)", () => {
  it("composes the gateway's SDL with the orders subgraph, which extends User", () => {
    expect(composition.errors).toBeUndefined();
    const supergraph = composition.supergraphSdl!;
    expect(supergraph).toMatch(/type User\s+@join__type\(graph: AUTH, key: "id"\)\s+@join__type\(graph: ORDERS, key: "id"\)/);
    expect(supergraph).toMatch(/orders: \[Order!\]! @join__field\(graph: ORDERS\)/);
  });

  it("npm run federation:compose makes the same supergraph offline, from the code and the example's typeDefs", async () => {
    const offline = await composeExampleSupergraph();
    expect(offline).toMatch(/type User\s+@join__type\(graph: AUTH, key: "id"\)\s+@join__type\(graph: ORDERS, key: "id"\)/);
    // The live composition differs only in the routing URLs.
    const urls = /@join__graph\(name: "\w+", url: "[^"]*"\)/g;
    expect(offline.replace(urls, "")).toBe(composition.supergraphSdl!.replace(urls, ""));
  });
});

describe("a query across both subgraphs (@apollo/gateway, Authorization forwarded)", () => {
  const ME = "{ me { id email orders { id total } } }";
  const PLACE = "mutation($total: Float!) { placeOrder(total: $total) { id total } }";
  const ORDER = "query($id: ID!) { order(id: $id) { id total buyer { id email orders { id } } } }";

  it("with the user's token: me and email from the gateway, the user's orders from the orders subgraph", async () => {
    const a = await newAccount();
    const placed = [
      (await post(router!.url, PLACE, { total: 12.5 }, a.token)).data!.placeOrder,
      (await post(router!.url, PLACE, { total: 40 }, a.token)).data!.placeOrder,
    ];
    const r = await post(router!.url, ME, {}, a.token);
    expect(r.errors).toBeUndefined();
    expect(r.data!.me).toEqual({ id: a.id, email: a.email, orders: placed });
    expect(placed.map((o) => o.total)).toEqual([12.5, 40]);
  });

  it("without a token: me is null, and the orders subgraph refuses to place an order", async () => {
    const r = await post(router!.url, ME);
    expect(r.errors).toBeUndefined();
    expect(r.data!.me).toBeNull();
    const place = await post(router!.url, PLACE, { total: 1 });
    expect(place.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("another user resolved through _entities shows no email and no orders, with or without a token", async () => {
    const [a, b] = [await newAccount(), await newAccount()];
    const order = (await post(router!.url, PLACE, { total: 9.99 }, a.token)).data!.placeOrder;
    findByIdsCalls.length = 0;
    for (const token of [undefined, b.token]) {
      const r = await post(router!.url, ORDER, { id: order.id }, token);
      expect(r.errors).toBeUndefined();
      expect(r.data!.order).toEqual({ id: order.id, total: 9.99, buyer: { id: a.id, email: null, orders: [] } });
    }
    // The router resolved the buyer through the gateway's _entities: one users query per request.
    expect(findByIdsCalls).toEqual([[a.id], [a.id]]);
    const own = await post(router!.url, ORDER, { id: order.id }, a.token);
    expect(own.data!.order.buyer).toEqual({ id: a.id, email: a.email, orders: [{ id: order.id }] });
  });

  it("a token the gateway did not sign is refused by both subgraphs", async () => {
    const a = await newAccount();
    const [h, p] = a.token.split(".");
    const forged = `${h}.${p}.${Buffer.alloc(64).toString("base64url")}`;
    expect((await post(router!.url, ME, {}, forged)).data!.me).toBeNull();
    expect((await post(router!.url, PLACE, { total: 1 }, forged)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
