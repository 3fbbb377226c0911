#!/usr/bin/env node
/**
 * Self time per function in a V8 CPU profile (`node --cpu-prof` writes one .cpuprofile per process when it
 * exits). `BENCH_PROFILE=1 npm run bench` profiles the service under add-item at c=64 and prints this table;
 * `node bench/profile.mjs <file.cpuprofile> [n]` prints it for a profile on disk.
 *
 * A profile is a call tree (`nodes`, each with a callFrame and its children) and the sampled leaf of every tick
 * (`samples`, with `timeDeltas` between ticks): a function's self time is the ticks spent in it, not in what it
 * calls. One function appears in many tree nodes (once per distinct caller path), so they are grouped by name,
 * file and line.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `n` functions with the most self time, and the profile's totals. `window` ({ from, to } in microseconds of
 * CLOCK_MONOTONIC, i.e. `process.hrtime.bigint() / 1000n` in any process of this machine: V8 stamps its samples
 * on that clock on Linux) keeps only the samples taken meanwhile — the measured load, without start and seeding.
 */
export function topSelfTime(file, n = 10, root = process.cwd(), window = undefined) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const ticks = new Map();
  const micros = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  let at = profile.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    if (window && (at < window.from || at > window.to)) continue;
    first = Math.min(first, at);
    last = Math.max(last, at);
    // The delta before the next sample is the time this one stood for (Chrome DevTools' reading).
    const id = samples[i];
    ticks.set(id, (ticks.get(id) ?? 0) + 1);
    micros.set(id, (micros.get(id) ?? 0) + Math.max(0, timeDeltas[i + 1] ?? 0));
  }
  const groups = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, count] of ticks) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    total += count;
    if (name === '(idle)') idle += count;
    let where = callFrame.url;
    if (where.startsWith('file://')) where = fileURLToPath(where);
    // node_modules may be a link to another checkout's: name the package, not the way there.
    const modules = where.lastIndexOf('/node_modules/');
    if (modules >= 0) where = where.slice(modules + 1);
    else if (where.startsWith('/')) where = relative(root, where);
    const key = `${name}\u0000${where}:${callFrame.lineNumber + 1}`;
    const group = groups.get(key) ?? { name, file: where, line: callFrame.lineNumber + 1, ticks: 0, ms: 0 };
    group.ticks += count;
    group.ms += (micros.get(id) ?? 0) / 1000;
    groups.set(key, group);
  }
  const top = [...groups.values()]
    .filter((g) => g.name !== '(idle)')
    .sort((a, b) => b.ticks - a.ticks)
    .slice(0, n);
  if (total === 0) throw new Error(`${file}: no sample${window ? ' in the measured window' : ''}`);
  return { file, total, idle, top, durationMs: (last - first) / 1000, windowed: !!window };
}

export function profileTable({ file, total, idle, top, durationMs, windowed }, title = 'CPU profile') {
  const pct = (ticks) => `${((100 * ticks) / total).toFixed(1)} %`;
  const out = [
    `### ${title}: top ${top.length} functions by self time`,
    '',
    `${file}: ${total} samples over ${(durationMs / 1000).toFixed(1)} s${windowed ? ' (the measured load only)' : ''}, of which idle ${pct(idle)}.`,
    '',
    '| # | function | self % of samples | self ms | file:line |',
    '| ---: | --- | ---: | ---: | --- |',
  ];
  top.forEach((g, i) => {
    const where = g.file ? `${g.file}:${g.line}` : '(native / VM)';
    out.push(`| ${i + 1} | \`${g.name}\` | ${pct(g.ticks)} | ${Math.round(g.ms)} | ${where} |`);
  });
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/profile.mjs <file.cpuprofile> [top n]\n');
    process.exit(2);
  }
  process.stdout.write(`${profileTable(topSelfTime(file, n ? Number(n) : 10))}\n`);
}
