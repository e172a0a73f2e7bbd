import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient, type Client } from "graphql-ws";
import { print } from "graphql";
import WebSocket from "ws";
import { ConsumeMagicLinkDocument, MagicLinkStatusDocument, MeDocument, RequestMagicLinkDocument, RequestOtpDocument, VerifyOtpDocument } from "../__generated__/graphql";
import { codeIn } from "../helpers/codes";
import { startTestGateway, type TestGateway } from "../helpers/gateway";
import { startGatewayProcess } from "../helpers/process";
import { deleteKeysUnder, testClusterTarget } from "../helpers/redis-keyspace";
import { waitFor } from "../helpers/wait";

// Two instances of one deployment on the run's 3-master Redis Cluster (REDIS_CLUSTER_NODES):
// codes, links, limits, pub/sub and the delivery queue all live there.
let gw: TestGateway;
let peer: TestGateway;
let ws: Client;
beforeAll(async () => {
  gw = await startTestGateway({ store: "cluster", env: { MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0" } });
  peer = await startTestGateway({ store: "cluster", peerOf: gw, env: { MAGIC_LINK_RESEND_COOLDOWN_SECONDS: "0" } });
  ws = createClient({ url: peer.url.replace("http", "ws") + "/graphql", webSocketImpl: WebSocket, retryAttempts: 0 });
});
afterAll(async () => {
  await ws?.dispose();
  await peer?.close();
  await gw?.close();
});

/** Either instance's worker may take the job from the shared queue: look in both outboxes. */
const mailTo = (to: string) => waitFor(() => [gw, peer].flatMap((g) => g.outbox!.list()).find((m) => m.to === to), `a message to ${to}`);

describe("a deployment on a Redis Cluster", () => {
  it("says so at start and is ready", async () => {
    expect(gw.logs.map((l) => l.msg)).toContain("Redis Cluster: using REDIS_CLUSTER_NODES (3 given) for codes, limits and pub/sub");
    const ready = await fetch(`${gw.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: "ok" } });
  });

  it("signs in with an emailed code: the code queued through BullMQ, the challenge verified by its script", async () => {
    const email = "cluster-code@example.com";
    const requested = await gw.request(RequestOtpDocument, { input: { channel: "EMAIL", destination: email, purpose: "SIGN_IN" } });
    const { challengeId } = requested.data!.requestOtp;
    // Verified on the other instance: the challenge is in the cluster, not in a process.
    const verified = await peer.request(VerifyOtpDocument, { input: { challengeId, code: codeIn((await mailTo(email)).text) } });
    expect(verified.data!.verifyOtp).toMatchObject({ status: "AUTHENTICATED", user: { email, emailVerified: true } });
    const me = await gw.request(MeDocument, {}, { token: verified.data!.verifyOtp.tokens!.accessToken });
    expect(me.data!.me!.email).toBe(email);
  });

  it("signs in the waiting device live: it subscribed on one instance, the link was confirmed on the other", async () => {
    const email = "cluster-link@example.com";
    const r = (await gw.request(RequestMagicLinkDocument, { input: { email } })).data!.requestMagicLink;
    const events: Array<{ state: string; auth: { status: string; tokens: { accessToken: string } | null } | null }> = [];
    const done = new Promise<void>((resolve, reject) => {
      ws.subscribe(
        { query: print(MagicLinkStatusDocument), variables: { requestId: r.requestId, listenToken: r.listenToken } },
        { next: (m) => (m.data ? events.push((m.data as { magicLinkStatus: (typeof events)[number] }).magicLinkStatus) : reject(m.errors)), error: reject, complete: resolve },
      );
    });
    await waitFor(() => events.length === 1, "the PENDING event");
    const mail = await mailTo(email);
    const token = mail.text.match(/token=([\w-]+)/)![1];
    const here = await gw.request(ConsumeMagicLinkDocument, { input: { token, matchCode: r.matchCode } });
    expect(here.data!.consumeMagicLink).toMatchObject({ status: "AUTHENTICATED", user: { email } });
    await done;
    expect(events.map((e) => e.state)).toEqual(["PENDING", "CONFIRMED"]);
    const waiting = events[1].auth!;
    expect(waiting.status).toBe("AUTHENTICATED");
    expect((await peer.request(MeDocument, {}, { token: waiting.tokens!.accessToken })).data!.me!.email).toBe(email);
  });
});

describe("main.ts on a Redis Cluster", () => {
  it("checks the cluster at start, then serves and is ready", async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "gw-cluster-"));
    const prefix = `test:${randomUUID()}:`;
    const nodes = testClusterTarget().cluster.map(({ host, port }) => `${host}:${port}`).join(",");
    const child = await startGatewayProcess({ DATA_DIR: dataDir, REDIS_CLUSTER_NODES: nodes, REDIS_KEY_PREFIX: prefix });
    try {
      expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
      expect(child.lines.some((l) => l.includes("Redis Cluster: using REDIS_CLUSTER_NODES"))).toBe(true);
    } finally {
      child.child.kill("SIGTERM");
      expect((await child.exited).code).toBe(0);
      await deleteKeysUnder(testClusterTarget(), prefix);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
