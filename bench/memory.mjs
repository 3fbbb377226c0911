/**
 * Part `memory` of `npm run bench`: the service's memory while its history grows to a million events.
 *
 * The real service process (`node dist/main.js`, embedded stores, projections running) gets 50,000 carts —
 * five times AGGREGATE_CACHE_SIZE, so the aggregate cache must evict — and then add-item commands (of the
 * catalog products listed first) on random carts (16 connections, autocannon in its own process) in slices
 * of SLICE_SECONDS until BENCH_MEMORY_EVENTS events (default 1,000,000) are in the store. After each slice
 * the service's RSS is read from /proc and its V8 heap and external memory from its own /metrics
 * (prom-client's process metrics). "Flat" means the second half of the history adds no more than noise: RSS
 * at the end within 10 % of RSS at the half-way mark.
 */
import { fmt } from './aggregate-load.mjs';

const CARTS = 50_000;
const SLICE_SECONDS = 20;

/** Reads one unlabelled sample of a Prometheus text exposition. */
function metricValue(text, name) {
  const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

export async function runMemoryBench({
  log,
  startService,
  stopService,
  listProducts,
  seedCarts,
  runLoad,
  rssMegabytes,
  operatorToken,
  events,
}) {
  const service = await startService();
  try {
    await listProducts(service);
    log(`memory: seeding ${CARTS.toLocaleString('en-US')} carts`);
    const carts = await seedCarts(service, CARTS);
    const sample = async (appended) => {
      const metrics = await fetch(`${service.base}/metrics`, {
        headers: { authorization: `Bearer ${operatorToken}` },
      }).then((r) => r.text());
      return {
        events: appended,
        rss: rssMegabytes(service.child.pid),
        heapUsed: metricValue(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20,
        heapTotal: metricValue(metrics, 'nodejs_heap_size_total_bytes') / 2 ** 20,
        external: metricValue(metrics, 'nodejs_external_memory_bytes') / 2 ** 20,
      };
    };
    let appended = carts.length; // one CartOpened each
    const rows = [await sample(appended)];
    let errors = 0;
    let seconds = 0;
    while (appended < events) {
      const load = await runLoad(service, carts, 16, SLICE_SECONDS);
      appended += load['2xx'];
      errors += load.non2xx + load.errors;
      seconds += load.duration;
      rows.push(await sample(appended));
      log(
        `memory: ${appended.toLocaleString('en-US')} events, RSS ${Math.round(rows.at(-1).rss)} MB, ` +
          `heap ${Math.round(rows.at(-1).heapUsed)} MB`,
      );
    }
    return { rows, errors, carts: carts.length, rate: (appended - carts.length) / seconds };
  } finally {
    await stopService(service);
  }
}

export function memoryTable({ rows, errors, carts, rate }) {
  const last = rows.at(-1);
  const half = rows.find((row) => row.events >= last.events / 2) ?? rows[0];
  const growth = (last.rss - half.rss) / half.rss;
  // Print about ten rows whatever the number of slices.
  const step = Math.max(1, Math.round(rows.length / 10));
  const shown = rows.filter((_, i) => i % step === 0 || i === rows.length - 1);
  return [
    `### Service memory as the history grows (embedded stores, ${carts.toLocaleString('en-US')} carts, add-item at c=16, ${Math.round(rate)} commands/s)`,
    '',
    '| events in the store | RSS MB | V8 heap used MB | heap total MB | external MB |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...shown.map(
      (r) =>
        `| ${r.events.toLocaleString('en-US')} | ${Math.round(r.rss)} | ${fmt(r.heapUsed)} | ${fmt(r.heapTotal)} | ${fmt(r.external)} |`,
    ),
    '',
    `RSS from ${half.events.toLocaleString('en-US')} to ${last.events.toLocaleString('en-US')} events: ` +
      `${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} % — target flat (≤ +10 %) ${growth <= 0.1 ? '✓' : '✗'}; ` +
      `failed commands: ${errors}.`,
    'Every cart is loaded again and again from 5× more carts than the aggregate cache holds (AGGREGATE_CACHE_SIZE 10,000), so the cache evicts throughout.',
  ].join('\n');
}
