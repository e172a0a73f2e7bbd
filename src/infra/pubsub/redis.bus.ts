import { RedisPubSub } from "graphql-redis-subscriptions";
import { Cluster } from "ioredis";
import type { EventBus } from "../../core/ports";
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
 * A subscription starts listening at its first `next()` (graphql-redis-subscriptions'
 * behaviour), and Redis drops messages published before SUBSCRIBE is acknowledged.
 */
export class RedisBus implements EventBus {
  private readonly pubsub: RedisPubSub;
  private readonly topicPrefix: string;
  private readonly publisher: RedisClient;
  private readonly connections: RedisClient[];
  private readonly open = new Set<AsyncIterableIterator<unknown>>();
  private closing?: Promise<void>;

  constructor(options: RedisBusOptions) {
    // A subscribed connection may only run subscriber commands, so two connections;
    // the ready check would send INFO on it after a reconnect and be refused.
    const timeouts = requestTimeouts(options.commandTimeoutMs);
    const publisher = connectRedis(options.url, timeouts, options.onError);
    const subscriber = connectRedis(options.url, { ...timeouts, enableReadyCheck: false }, options.onError);
    this.publisher = publisher;
    this.connections = [publisher, subscriber];
    this.pubsub = new RedisPubSub({ publisher, subscriber });
    this.topicPrefix = options.topicPrefix ?? "";
  }

  async publish(topic: string, payload: object): Promise<void> {
    // JSON, as RedisPubSub would send it (its subscriber side parses it back).
    await publishingConnection(this.publisher).publish(this.channel(topic), JSON.stringify(payload));
  }

  subscribe<T>(topic: string): AsyncIterableIterator<T> {
    const iterator: AsyncIterableIterator<T> = this.pubsub.asyncIterableIterator<T>(this.channel(topic));
    // Remember it so close() can end it; forget it once it ends, or the set would grow
    // with every subscription the process ever served.
    const stop = iterator.return?.bind(iterator);
    iterator.return = async (value?: unknown) => {
      this.open.delete(iterator);
      return stop ? stop(value) : { value: undefined, done: true };
    };
    this.open.add(iterator);
    return iterator;
  }

  /**
   * Resolves once Redis has acknowledged the SUBSCRIBE: every message published after
   * that arrives. (Redis drops what is published before; `subscribe` alone is lazy.)
   */
  async listen<T>(topic: string): Promise<AsyncIterableIterator<T>> {
    let subscription: number | undefined;
    const iterator: PushIterator<T> = new PushIterator<T>(async () => {
      this.open.delete(iterator);
      if (subscription !== undefined) this.pubsub.unsubscribe(subscription);
    });
    this.open.add(iterator);
    subscription = await this.pubsub.subscribe<T>(this.channel(topic), (message) => iterator.push(message));
    return iterator;
  }

  /** Channel a topic travels on (the prefix included), e.g. for PUBSUB NUMSUB. */
  channel(topic: string): string {
    return this.topicPrefix + topic;
  }

  /** Ends every subscription, so `for await` loops over them finish, then disconnects. */
  close(): Promise<void> {
    // A second QUIT on a closing connection fails and trips ioredis' fallback timer.
    this.closing ??= (async () => {
      await Promise.all([...this.open].map((iterator) => iterator.return?.()));
      await Promise.all(this.connections.map(closeRedis));
    })();
    return this.closing;
  }
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

export function createRedisBus(options: RedisBusOptions): RedisBus {
  return new RedisBus(options);
}
