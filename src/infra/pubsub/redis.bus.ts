import { RedisPubSub } from "graphql-redis-subscriptions";
import type { EventEmitter } from "node:events";
import { Cluster } from "ioredis";
import { BUS_RESYNC, type BusResync, type EventBus } from "../../core/ports";
import { closeRedis, connectRedis, requestTimeouts, type RedisClient, type RedisTarget } from "../store/redis-connection";
import { PushIterator } from "./push-iterator";

export interface RedisBusOptions {
  /**
   * `redis://` or `rediss://` (TLS), or a Redis Cluster's nodes: a cluster forwards every
   * PUBLISH to all its nodes, so a subscriber on any node hears it.
   */
  url: RedisTarget;
  /** Prepended to every channel, so deployments (or test files) sharing a Redis stay apart. */
  topicPrefix?: string;
  /** Connection errors; ioredis keeps reconnecting after each one. */
  onError?: (error: Error) => void;
  /** PUBLISH and SUBSCRIBE fail after this long (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs?: number;
}

/**
 * `EventBus` over Redis pub/sub, so an event published by one gateway instance reaches
 * subscribers on all of them. Payloads travel as JSON.
 *
 * One pattern subscription per kind of topic (`<prefix>magic-link:*` for every
 * `magic-link:<id>`) carries its topics to this instance, and the instance hands each
 * message to its own listeners of that topic. A listener then costs a map entry, not a
 * Redis subscription of its own with its bookkeeping in ioredis and
 * graphql-redis-subscriptions (thousands of devices wait on a link at once), and listening
 * needs no round trip once the pattern is acknowledged. Every instance hears every event of
 * a kind it listens to: a few per sign-in, each ignored where nobody listens. Channel names
 * are as they were (a rolling deploy's older instances publish and subscribe the same).
 */
export class RedisBus implements EventBus {
  private readonly pubsub: RedisPubSub;
  private readonly topicPrefix: string;
  private readonly publisher: RedisClient;
  private readonly connections: RedisClient[];
  /** This instance's listeners by topic: one, or several (an array), each ended once. */
  private readonly listeners = new Map<string, PushIterator<unknown> | Array<PushIterator<unknown>>>();
  private readonly subscriber: RedisClient;
  /** Each pattern's registration with graphql-redis-subscriptions (which hands its messages to dispatch); kept once it succeeded. */
  private readonly registrations = new Map<string, Promise<void>>();
  /** Each pattern's acknowledgement on the current connection; forgotten when it may have dropped. */
  private readonly acknowledged = new Map<string, Promise<void>>();
  private closing?: Promise<void>;
  private resyncing?: Promise<void>;

  constructor(options: RedisBusOptions) {
    // A subscribed connection may only run subscriber commands, so two connections;
    // the ready check would send INFO on it after a reconnect and be refused.
    const timeouts = requestTimeouts(options.commandTimeoutMs);
    const publisher = connectRedis(options.url, timeouts, options.onError);
    const subscriber = connectRedis(options.url, { ...timeouts, enableReadyCheck: false }, options.onError);
    this.publisher = publisher;
    this.subscriber = subscriber;
    this.connections = [publisher, subscriber];
    // ioredis subscribes again after a reconnect; until Redis acknowledges that, a new
    // listener must wait. What was published in between is lost: once the patterns are
    // back, every listener is told to read the state again (BUS_RESYNC). A cluster client
    // moves its subscription to another node when its node goes, without a "close".
    const cutOff = () => {
      this.acknowledged.clear();
      this.resyncing ??= this.resync().finally(() => (this.resyncing = undefined));
    };
    subscriber.on("close", cutOff);
    if (subscriber instanceof Cluster) onSubscriptionMoved(subscriber, cutOff);
    // The message's channel names its topic: kept beside the text, parsed per listener.
    const deserializer = (text: string | Buffer, { channel }: { channel: string }): Received => ({ channel, text: text.toString() });
    this.pubsub = new RedisPubSub({ publisher, subscriber, deserializer });
    this.topicPrefix = options.topicPrefix ?? "";
  }

  async publish(topic: string, payload: object): Promise<void> {
    // JSON, as RedisPubSub would send it.
    await publishingConnection(this.publisher).publish(this.channel(topic), JSON.stringify(payload));
  }

  /**
   * Resolves once Redis has acknowledged the pattern subscription: every message published
   * after that arrives. (Redis drops what is published before.)
   */
  async listen<T>(topic: string): Promise<AsyncIterableIterator<T | BusResync>> {
    if (this.closing) throw new Error("the event bus is closed");
    const iterator: PushIterator<T> = new PushIterator<T>(() => this.forget(topic, iterator as PushIterator<unknown>));
    const others = this.listeners.get(topic);
    this.listeners.set(topic, others === undefined ? (iterator as PushIterator<unknown>) : [...(Array.isArray(others) ? others : [others]), iterator as PushIterator<unknown>]);
    try {
      await this.acknowledge(patternOf(this.topicPrefix, topic));
    } catch (e) {
      await iterator.return();
      throw e;
    }
    return iterator;
  }

  /** Channel a topic travels on (the prefix included). */
  channel(topic: string): string {
    return this.topicPrefix + topic;
  }

  /** How many of this instance's listeners wait on `topic`, or on any topic (for tests and probes). */
  listenerCount(topic?: string): number {
    const count = (l: PushIterator<unknown> | Array<PushIterator<unknown>> | undefined) => (l === undefined ? 0 : Array.isArray(l) ? l.length : 1);
    if (topic !== undefined) return count(this.listeners.get(topic));
    let all = 0;
    for (const l of this.listeners.values()) all += count(l);
    return all;
  }

  /** Ends every subscription, so `for await` loops over them finish, then disconnects. */
  close(): Promise<void> {
    // A second QUIT on a closing connection fails and trips ioredis' fallback timer.
    this.closing ??= (async () => {
      const open = [...this.listeners.values()].flat();
      await Promise.all(open.map((iterator) => iterator.return()));
      await Promise.all(this.connections.map(closeRedis));
    })();
    return this.closing;
  }

  /**
   * A pattern, acknowledged on the subscriber's current connection: registered once with
   * graphql-redis-subscriptions, subscribed again (PSUBSCRIBE is idempotent, and its reply
   * comes after ioredis' own resubscription) after a reconnect. A failure is not kept: the
   * next listen tries again.
   */
  private acknowledge(pattern: string): Promise<void> {
    const known = this.acknowledged.get(pattern);
    if (known) return known;
    const registration = this.registrations.get(pattern);
    // Registered (or being registered): its PSUBSCRIBE again, after the registration.
    const asked = registration ? registration.then(() => this.subscriber.psubscribe(pattern)).then(() => undefined) : this.register(pattern);
    const acknowledged: Promise<void> = asked.catch((e: unknown) => {
      if (this.acknowledged.get(pattern) === acknowledged) this.acknowledged.delete(pattern);
      throw e;
    });
    this.acknowledged.set(pattern, acknowledged);
    return acknowledged;
  }

  private register(pattern: string): Promise<void> {
    const registration = this.pubsub.subscribe<Received>(pattern, (m) => this.dispatch(m), { pattern: true }).then(
      () => undefined,
      (e: unknown) => {
        this.registrations.delete(pattern);
        throw e;
      },
    );
    this.registrations.set(pattern, registration);
    return registration;
  }

  /**
   * After the subscriber may have lost its patterns: each acknowledged again (until it is,
   * one try a second), then every listener told to read the state again, once.
   */
  private async resync(): Promise<void> {
    while (!this.closing) {
      try {
        await Promise.all([...this.registrations.keys()].map((pattern) => this.acknowledge(pattern)));
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RESYNC_RETRY_MS).unref());
      }
    }
    if (this.closing) return;
    for (const listener of [...this.listeners.values()].flat()) listener.pushUnlessQueued(BUS_RESYNC);
  }

  private dispatch({ channel, text }: Received): void {
    const listeners = this.listeners.get(channel.slice(this.topicPrefix.length));
    if (listeners === undefined) return;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return; // not one of ours: every channel the pattern matches reaches here
    }
    // Ours are objects (publish takes one); anything else on the channel is someone else's.
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return;
    if (!Array.isArray(listeners)) return listeners.push(payload);
    // Each its own copy, as from Redis: no listener sees another's changes.
    listeners.forEach((l, i) => l.push(i === 0 ? payload : JSON.parse(text)));
  }

  private forget(topic: string, iterator: PushIterator<unknown>): void {
    const l = this.listeners.get(topic);
    if (l === iterator) this.listeners.delete(topic);
    else if (Array.isArray(l)) {
      const rest = l.filter((x) => x !== iterator);
      this.listeners.set(topic, rest.length === 1 ? rest[0] : rest);
    }
  }
}

interface Received {
  channel: string;
  text: string;
}

const RESYNC_RETRY_MS = 1_000;

/** Text as a literal in a Redis glob pattern. */
const globEscaped = (text: string): string => text.replace(/[\\*?[\]]/g, "\\$&");

/** The pattern a topic is heard through: its kind (`magic-link:`) under the prefix, or the topic itself when it has none. */
function patternOf(prefix: string, topic: string): string {
  const kind = topic.indexOf(":");
  return kind < 0 ? globEscaped(prefix + topic) : `${globEscaped(prefix + topic.slice(0, kind + 1))}*`;
}

/**
 * Where PUBLISH goes. A cluster client sends a keyless command to a random node each
 * time, and each node forwards to the others on its own: two events published one after
 * the other (OPENED, then CONFIRMED) could reach a subscriber on a third node in the
 * other order. Every instance sends through the same master (the first by address)
 * instead, so a channel's events keep their order as on one Redis.
 */
function publishingConnection(publisher: RedisClient): RedisClient {
  if (!(publisher instanceof Cluster)) return publisher;
  const [first] = publisher
    .nodes("master")
    // Node connections open on their first command ("wait" until then): not a sign of trouble.
    .filter((node) => node.status !== "end" && node.status !== "close")
    .sort((a, b) => nodeName(a).localeCompare(nodeName(b)));
  // None known yet (still connecting): the cluster client queues it until it knows.
  return first ?? publisher;
}

const nodeName = (node: { options: { host?: string; port?: number } }): string => `${node.options.host}:${node.options.port}`;

/**
 * Calls `moved` each time a cluster client's subscription connection is replaced after it
 * was up (its node went, or the client reconnected). ioredis does that in its
 * ClusterSubscriber and tells nobody: no "close", and "-node" only for the nodes of its
 * command pool (also at start, when the slot map drops the replicas it was given). At start
 * it may also replace a connection that never opened: nothing was heard or missed on that
 * one. The hook is on ioredis' private `subscriber.selectSubscriber` (5.x); it throws at
 * once if that is gone, so an upgrade that moved it fails the cluster suites instead of
 * losing events silently.
 */
function onSubscriptionMoved(cluster: Cluster, moved: () => void): void {
  type Holder = { subscriber?: EventEmitter | null; selectSubscriber?: () => void };
  const holder = (cluster as unknown as { subscriber?: Holder }).subscriber;
  const select = holder?.selectSubscriber;
  if (!holder || typeof select !== "function" || !("subscriber" in holder)) throw new Error("ioredis' cluster subscriber is not where the event bus watches it (ioredis changed?)");
  let wasUp = false;
  holder.selectSubscriber = () => {
    const replaced = wasUp;
    wasUp = false;
    select.call(holder);
    holder.subscriber?.once("ready", () => (wasUp = true));
    // After the new connection is in place, so the resync's PSUBSCRIBE goes to it.
    if (replaced) moved();
  };
}

export function createRedisBus(options: RedisBusOptions): RedisBus {
  return new RedisBus(options);
}
