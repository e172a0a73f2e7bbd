import { createHash } from "node:crypto";
import { InMemoryLRUCache } from "@apollo/utils.keyvaluecache";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { HTTP_DOCUMENT_STORE_MAX_BYTES, HTTP_PERSISTED_QUERY_STORE_MAX_CHARACTERS } from "../../src/graphql/document-cache";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

/** A valid operation of about `length` characters, different for every `n` (one long operation name). */
const distinct = (n: number, length: number) => `query Q${n}_${"x".repeat(length)} { __typename }`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

describe("the document caches an anonymous client can fill", () => {
  it("HTTP: Apollo's document store stays within its byte bound however many distinct queries arrive", async () => {
    const store = gw.gateway.documents.http;
    // 300 × ~20 KB: well past the bound (Apollo's default would keep all 6 MB).
    for (let n = 0; n < 300; n++) {
      const r = await gw.request(distinct(n, 20_000));
      expect(r.data).toEqual({ __typename: "Query" });
    }
    const keys = store.keys();
    let bytes = 0;
    for (const key of keys) bytes += InMemoryLRUCache.sizeCalculation((await store.get(key))!);
    expect(keys.length).toBeGreaterThan(10); // still a cache: recent documents are kept
    expect(bytes).toBeLessThanOrEqual(HTTP_DOCUMENT_STORE_MAX_BYTES);
    expect(gw.logs.filter((l) => ["error", "fatal"].includes(l.level as string))).toEqual([]);
  });

  it("HTTP: query texts registered as automatic persisted queries stay within their bound", async () => {
    const store = gw.gateway.documents.persisted;
    for (let n = 0; n < 150; n++) {
      const query = distinct(1000 + n, 20_000);
      const sha256Hash = createHash("sha256").update(query).digest("hex");
      const res = await fetch(`${gw.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } }),
      });
      expect(((await res.json()) as { data?: unknown }).data).toEqual({ __typename: "Query" });
    }
    let characters = 0;
    for (const key of store.keys()) characters += (await store.get(key))!.length;
    expect(store.keys().length).toBeGreaterThan(10);
    expect(characters).toBeLessThanOrEqual(HTTP_PERSISTED_QUERY_STORE_MAX_CHARACTERS);
  });

  it("WebSocket: the shared document cache keeps at most 64 Ki characters of text", async () => {
    const client: Client = createClient({ url: gw.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      for (let n = 0; n < 100; n++) {
        const data = await new Promise((resolve, reject) =>
          client.subscribe({ query: distinct(n, 4000) }, { next: (v) => resolve(v.data), error: reject, complete: () => {} }),
        );
        expect(data).toEqual({ __typename: "Query" });
      }
    } finally {
      await client.dispose();
    }
    const { entries, characters } = gw.gateway.documents.ws.size();
    expect(entries).toBeGreaterThan(1);
    expect(characters).toBeLessThanOrEqual(64 * 1024);
  });
});
