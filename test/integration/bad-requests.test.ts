import { startTestGateway, type TestGateway } from "../helpers/gateway";

let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(() => gw.close());

const post = (path: string, body: string, contentType?: string) =>
  fetch(`${gw.url}${path}`, { method: "POST", headers: contentType ? { "content-type": contentType } : {}, body });

/** Nothing of Express's error page: no HTML, no stack, no file paths. */
const noStack = (text: string) => {
  expect(text).not.toMatch(/<pre>|<html|\bat \S+ \(|node_modules|\.js:\d+/);
};

describe("POST /graphql with a body that cannot be read", () => {
  it("answers bad JSON with a 400 and a GraphQL-shaped JSON error", async () => {
    const res = await post("/graphql", '{"query": "{ me { id } }"', "application/json");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    noStack(text);
    expect(JSON.parse(text)).toEqual({ errors: [{ message: "The request body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }] });
  });

  it("answers a body over 100kb with a 413 and a JSON error", async () => {
    const res = await post("/graphql", JSON.stringify({ query: "{ me { id } }", variables: { pad: "x".repeat(150_000) } }), "application/json");
    expect(res.status).toBe(413);
    const text = await res.text();
    noStack(text);
    expect(JSON.parse(text)).toEqual({ errors: [{ message: "The request body is too large (at most 100kb).", extensions: { code: "BAD_REQUEST" } }] });
  });
});

describe("POST /auth/magic-link with something other than the page's form", () => {
  it.each([
    ["a JSON body", '{"token":"x","action":"local"}', "application/json"],
    ["a text body", "token=x&action=local", "text/plain"],
    ["an empty body", "", undefined],
    ["a form without a token", "action=local", "application/x-www-form-urlencoded"],
  ])("answers %s with a 400 page", async (_name, body, type) => {
    const res = await post("/auth/magic-link", body, type);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    const text = await res.text();
    expect(text).toContain("This link can&#39;t be used");
    expect(text).not.toMatch(/TypeError|<pre>|node_modules/);
  });

  it("answers a form over its 4kb limit with a 413 page", async () => {
    const res = await post("/auth/magic-link", `token=${"x".repeat(5000)}&action=local`, "application/x-www-form-urlencoded");
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).not.toMatch(/PayloadTooLargeError|<pre>|node_modules/);
  });
});
