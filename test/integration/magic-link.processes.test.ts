import { generateKeyPairSync, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { generateKeyEntry } from "../../src/core/secret-box";
import { ConsumeMagicLinkDocument, MagicLinkStatusDocument, MeDocument, RequestMagicLinkDocument } from "../__generated__/graphql";
import { createTestDatabaseUrl, type EmptyPostgresDatabase } from "../helpers/database";
import { deleteKeysUnder } from "../helpers/redis-keyspace";
import { killRunning, startGatewayProcess, type GatewayProcess } from "../helpers/process";
import { waitFor } from "../helpers/wait";

/**
 * The "Done when", as a new user would try it: two `node dist/src/main.js`
 * processes share Redis and Postgres; a device waits on one, the link is opened and
 * confirmed on the other, and the waiting device receives CONFIRMED with working tokens.
 * Without DATABASE_URL each process embeds its own PGlite (it cannot be shared), so only
 * Redis is shared and the tokens are checked on the instance whose database holds them.
 */

/** The token of the link emailed to `email`, from whichever instance's outbox got it. */
function linkIn(instances: GatewayProcess[], email: string): Promise<string> {
  const tokenIn = async (gw: GatewayProcess) => {
    const outbox = (await (await fetch(`${gw.url}/dev/outbox?to=${encodeURIComponent(email)}`)).json()) as Array<{ text: string }>;
    return outbox[0]?.text.match(/\/auth\/magic-link\?token=([\w-]+)/)?.[1];
  };
  return waitFor(async () => (await Promise.all(instances.map(tokenIn))).find(Boolean), `a link for ${email} in either outbox`);
}

interface StatusEvent {
  state: string;
  auth: { status: string; tokens: { accessToken: string } | null; user: { email: string | null } | null } | null;
}

describe("a magic link across two gateway processes sharing Redis and Postgres", () => {
  const dataDirs: string[] = [];
  const processes: GatewayProcess[] = [];
  let pg: EmptyPostgresDatabase | undefined;
  let ws: Client | undefined;
  const deploymentPrefix = `ml-processes-${randomUUID().slice(0, 8)}:`;

  afterAll(async () => {
    await ws?.dispose();
    await killRunning(processes);
    await pg?.drop();
    await deleteKeysUnder(process.env.REDIS_URL!, deploymentPrefix);
    for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("signs in the device waiting on instance A when the link is opened and confirmed on instance B", async () => {
    pg = await createTestDatabaseUrl();
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    // What one deployment's instances share: keys, public URL, Redis and (with DATABASE_URL) Postgres.
    const shared: Record<string, string> = {
      JWT_PRIVATE_KEY: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
      TOTP_ENCRYPTION_KEY: generateKeyEntry(),
      PUBLIC_URL: "http://gateway.example.test",
      REDIS_URL: process.env.REDIS_URL!,
      // Both share one prefix of their own: another gateway on this Redis (another test file,
      // another run) must not share our limits and delivery queue.
      REDIS_KEY_PREFIX: deploymentPrefix,
      ...(pg && { DATABASE_URL: pg.url }),
    };
    const start = () => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-ml-"));
      dataDirs.push(dataDir);
      return startGatewayProcess({ ...shared, DATA_DIR: dataDir });
    };
    // At once, as a deployment rolls out: on one Postgres the migration lock lets one migrate.
    const started = await Promise.allSettled([start(), start()]);
    for (const s of started) if (s.status === "fulfilled") processes.push(s.value);
    for (const s of started) if (s.status === "rejected") throw s.reason;
    const [a, b] = processes;
    for (const gw of [a, b]) {
      expect(gw.lines.some((l) => l.includes("Redis: using REDIS_URL"))).toBe(true);
      if (pg) expect(gw.lines.some((l) => l.includes("Postgres: connected"))).toBe(true);
    }

    // The laptop asks on A and waits there.
    const email = `two-instances-${randomUUID()}@example.com`;
    const asked = (await a.request(RequestMagicLinkDocument, { input: { email } })).data!.requestMagicLink;
    ws = createClient({ url: a.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
    const events: StatusEvent[] = [];
    let failure: unknown;
    let completed = false;
    ws.subscribe(
      { query: print(MagicLinkStatusDocument), variables: { requestId: asked.requestId, listenToken: asked.listenToken } },
      {
        next: (r) => {
          if (r.errors) failure = r.errors;
          if (r.data) events.push((r.data as { magicLinkStatus: StatusEvent }).magicLinkStatus);
        },
        error: (e) => {
          failure = e;
          completed = true;
        },
        complete: () => (completed = true),
      },
    );
    const stateAt = (n: number) =>
      waitFor(() => {
        if (failure !== undefined) throw new Error(`the subscription on A failed: ${JSON.stringify(failure)}`);
        return events[n]?.state;
      }, `event #${n + 1} on A`);
    expect(await stateAt(0)).toBe("PENDING");

    // Either instance's delivery worker may send the email (one queue in the shared Redis).
    const token = await linkIn([a, b], email);

    // The phone opens the link on B: the laptop on A hears OPENED.
    const page = await fetch(`${b.url}/auth/magic-link?token=${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(email);
    expect(await stateAt(1)).toBe("OPENED");

    // The person confirms on B with the number the laptop shows.
    const here = await b.request(ConsumeMagicLinkDocument, { input: { token, matchCode: asked.matchCode } });
    expect(here.errors).toBeUndefined();
    expect(here.data!.consumeMagicLink).toMatchObject({ status: "AUTHENTICATED", isNewUser: true, user: { email, emailVerified: true } });

    expect(await stateAt(2)).toBe("CONFIRMED");
    await waitFor(() => completed, "the subscription on A to complete");
    expect(failure).toBeUndefined();
    expect(events.map((e) => e.state)).toEqual(["PENDING", "OPENED", "CONFIRMED"]);
    const waiting = events[2].auth!;
    expect(waiting).toMatchObject({ status: "AUTHENTICATED", user: { email } });
    const accessToken = waiting.tokens!.accessToken;
    // Two devices, two sessions.
    expect(accessToken).not.toBe(here.data!.consumeMagicLink.tokens!.accessToken);

    // The tokens work: on B, whose database holds the session, and on A when they share Postgres.
    for (const gw of pg ? [a, b] : [b]) {
      const me = await gw.request(MeDocument, {}, { token: accessToken });
      expect(me.errors).toBeUndefined();
      expect(me.data!.me!.email).toBe(email);
    }

    await ws.dispose();
    for (const gw of [a, b]) gw.child.kill("SIGTERM");
    for (const gw of [a, b]) expect((await gw.exited).code).toBe(0);
  }, 120_000);
});
