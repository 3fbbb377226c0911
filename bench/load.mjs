#!/usr/bin/env node
/**
 * Load generator for the HTTP benchmark, run by bench/run.mjs in a process of its own so that autocannon
 * never shares an event loop with the orchestrator (or with the service).
 *
 *   node bench/load.mjs '<json-config>'        (or: node bench/load.mjs @/path/to/config.json)
 *
 * Config: { url | urls: [url...], token, carts: [cartId...], skus, connections, duration (s), timeout (s),
 * rate? (req/s) }. With several urls (instances of one deployment) the connections and the rate are spread
 * evenly over them, one autocannon per url, and the summary is over all of them.
 * Every request is `POST /carts/<random cart>/items` adding 1 unit of a random sku `sku-<n>` (n < skus), a
 * catalog product the orchestrator listed before the load at a price that stays fixed (the shop sets it: the
 * body is only {sku, quantity}), so any cart can take skus × 999 adds before a line is full.
 * Prints one JSON object (a summary of autocannon's result) on stdout and exits 0; exits 1 on failure.
 */
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

function readConfig(arg) {
  if (!arg) throw new Error('usage: node bench/load.mjs <json-config | @config.json>');
  return JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg);
}

const config = readConfig(process.argv[2]);
const { token, carts, skus = 90, connections = 16, duration = 10, timeout = 10, rate } = config;
const urls = config.urls ?? [config.url];
if (!Array.isArray(carts) || carts.length === 0) throw new Error('config.carts must be a non-empty list');
if (urls.length === 0 || urls.some((u) => typeof u !== 'string')) throw new Error('config.url(s) missing');
if (connections < urls.length) throw new Error(`${connections} connections cannot cover ${urls.length} urls`);

/** One pre-encoded body per sku (the body does not depend on the cart). */
const bodies = Array.from({ length: skus }, (_, n) => JSON.stringify({ sku: `sku-${n}`, quantity: 1 }));
const paths = carts.map((id) => `/carts/${id}/items`);
const failureSamples = [];

const share = (total, i) => Math.floor(total / urls.length) + (i < total % urls.length ? 1 : 0);
const instances = urls.map((url, i) =>
  autocannon({
    url,
    connections: share(connections, i),
    duration,
    timeout,
    // A steady offered load (requests/s over all connections) instead of as fast as possible.
    ...(rate ? { overallRate: rate / urls.length } : {}),
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          request.path = paths[Math.floor(Math.random() * paths.length)];
          request.body = bodies[Math.floor(Math.random() * bodies.length)];
          return request;
        },
        // Keeps the first few failure bodies (problem+json) so the report can say what went wrong.
        onResponse: (status, body) => {
          if ((status < 200 || status >= 300) && failureSamples.length < 5) {
            failureSamples.push(`${status} ${String(body).slice(0, 300)}`);
          }
        },
      },
    ],
  }),
);

// Exact (sub-millisecond) latencies of 2xx responses: autocannon's own histogram has 1 ms buckets.
let latencies = new Float64Array(1 << 16);
let latencyCount = 0;
const onResponse = (_client, statusCode, _bytes, responseTime) => {
  if (statusCode < 200 || statusCode >= 300) return;
  if (latencyCount === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[latencyCount++] = responseTime;
};
for (const instance of instances) instance.on('response', onResponse);

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

const errorSamples = [];
for (const instance of instances) {
  instance.on('reqError', (error) => {
    if (errorSamples.length < 5) errorSamples.push(String(error?.code ?? error?.message ?? error));
  });
}

/** One autocannon result over several (sums; the mean rates add up; autocannon's latencies: the first's). */
function merge(results) {
  if (results.length === 1) return results[0];
  const sum = (f) => results.reduce((total, r) => total + f(r), 0);
  const statusCodeStats = {};
  for (const r of results) {
    for (const [code, v] of Object.entries(r.statusCodeStats)) {
      statusCodeStats[code] = { count: (statusCodeStats[code]?.count ?? 0) + v.count };
    }
  }
  return {
    connections: sum((r) => r.connections),
    duration: Math.max(...results.map((r) => r.duration)),
    requests: {
      average: sum((r) => r.requests.average),
      total: sum((r) => r.requests.total),
      sent: sum((r) => r.requests.sent),
    },
    '2xx': sum((r) => r['2xx']),
    non2xx: sum((r) => r.non2xx),
    statusCodeStats,
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    latency: results[0].latency,
  };
}

Promise.all(instances.map((instance) => new Promise((resolve) => instance.on('done', resolve)))).then(
  (all) => {
    const result = merge(all);
    const sorted = latencies.subarray(0, latencyCount).sort();
    const round = (ms) => (ms === null ? null : Math.round(ms * 100) / 100);
    const summary = {
      connections: result.connections,
      duration: result.duration,
      requestsPerSecondMean: result.requests.average,
      completed: result.requests.total,
      sent: result.requests.sent,
      '2xx': result['2xx'],
      non2xx: result.non2xx,
      statusCodeStats: Object.fromEntries(
        Object.entries(result.statusCodeStats).map(([code, v]) => [code, v.count]),
      ),
      errors: result.errors,
      timeouts: result.timeouts,
      errorSamples,
      failureSamples,
      /** ms, exact, over 2xx responses. */
      latency: {
        mean: round(latencyCount ? sorted.reduce((a, b) => a + b, 0) / latencyCount : null),
        p50: round(percentile(sorted, 50)),
        p90: round(percentile(sorted, 90)),
        p99: round(percentile(sorted, 99)),
        max: round(percentile(sorted, 100)),
      },
      /** autocannon's own latency histogram (1 ms buckets), for comparison. */
      autocannonLatency: {
        mean: result.latency.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        max: result.latency.max,
      },
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  },
);

for (const instance of instances) {
  instance.on('error', (error) => {
    process.stderr.write(`autocannon failed: ${error?.stack ?? error}\n`);
    process.exit(1);
  });
}

// When the orchestrator dies or stops us, stop cleanly (the partial result is still printed).
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    for (const instance of instances) instance.stop();
  });
}
