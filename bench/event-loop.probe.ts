/**
 * Preloaded into a benchmarked process (`node --require .../event-loop.probe.js main.js`):
 * the event loop's delay, over IPC. "reset" starts a window; "read" answers its p50/p99/max
 * in ms; "memory:read" answers process.memoryUsage() and V8's heap spaces. The gateway itself is unchanged.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import v8 from "node:v8";

// 1 ms sampling: each sample is the time between two timer turns, so ~1 ms is the floor.
const RESOLUTION_MS = 1;
const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
histogram.enable();

if (process.send) {
  process.on("message", (msg: unknown) => {
    if (msg === "event-loop:reset") {
      histogram.reset();
      process.send!({ kind: "event-loop", reset: true });
    }
    // Where the process's memory is, for the waiting-subscriptions row: V8's heap spaces (committed and used) and the rest.
    if (msg === "memory:read") {
      const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { committed: s.physical_space_size, used: s.space_used_size }]));
      process.send!({ kind: "memory", ...process.memoryUsage(), spaces });
    }
    if (msg === "event-loop:read") {
      const ms = (ns: number) => ns / 1e6;
      process.send!({ kind: "event-loop", p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), resolution: RESOLUTION_MS });
    }
  });
  // The IPC channel must not keep a gateway alive that was asked to stop.
  process.channel?.unref();
}
