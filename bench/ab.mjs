/**
 * A/B comparison of two commits for `npm run bench` (BENCH_BASE=<git rev>): the base revision is checked out into
 * a temporary detached worktree that uses this checkout's node_modules, built there, and the http scenarios run
 * on it and on the current build alternately (base, current, base, current, …) in one session, so that a
 * machine whose load drifts affects both alike. The table's ratios (current ÷ base) are what to read; the
 * absolute figures are this run's only.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fmt } from './aggregate-load.mjs';

function git(root, args) {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * Checks `rev` out into a temporary worktree and builds it. Refuses (throws) when its package-lock.json differs
 * from this checkout's: the shared node_modules would then not be the base's dependencies, and installing them
 * here is not this tool's business. The worktree is removed by `remove()`, and on any exit of the process.
 */
export async function prepareBase({ root, rev, log }) {
  let commit;
  try {
    commit = git(root, ['rev-parse', '--verify', `${rev}^{commit}`]);
  } catch {
    throw new Error(`BENCH_BASE=${rev}: not a commit of this repository`);
  }
  const line = git(root, ['log', '-1', '--format=%h %s', commit]);
  const subject = line.length > 72 ? `${line.slice(0, 71)}…` : line;
  let baseLock;
  try {
    baseLock = git(root, ['show', `${commit}:package-lock.json`]);
  } catch {
    throw new Error(`BENCH_BASE=${rev}: the commit has no package-lock.json`);
  }
  if (baseLock !== readFileSync(join(root, 'package-lock.json'), 'utf8').trim())
    throw new Error(
      `BENCH_BASE=${rev}: its package-lock.json differs from this checkout's, so this node_modules is not its ` +
        'dependencies; compare it by hand in a checkout of its own (npm ci there), this tool does not install',
    );
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) throw new Error(`${modules} is missing: run npm ci first`);

  const dir = mkdtempSync(join(os.tmpdir(), 'ordertrail-bench-base-'));
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    // Synchronous: this also runs from the process's 'exit' event (a failure, Ctrl-C, SIGTERM).
    const result = spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' });
    if (result.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      spawnSync('git', ['worktree', 'prune'], { cwd: root, stdio: 'ignore' });
    }
  };
  process.on('exit', remove);
  try {
    log(`ab: checking ${subject} out into ${dir}`);
    // mkdtemp made the directory; git worktree add wants it absent or empty — it is empty.
    git(root, ['worktree', 'add', '--detach', dir, commit]);
    symlinkSync(realpathSync(modules), join(dir, 'node_modules'), 'dir');
    log('ab: building the base (npm run build)');
    // Asynchronous, so that a Ctrl-C or SIGTERM meanwhile is handled at once (and stops the build with it).
    await new Promise((resolveBuild, reject) => {
      // Its own process group: npm runs tsc as a child of its own, which must stop with it.
      const build = spawn('npm', ['run', 'build'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const stopBuild = () => {
        try {
          process.kill(-build.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      process.once('exit', stopBuild);
      let output = '';
      for (const stream of [build.stdout, build.stderr])
        stream.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
      build.once('error', reject);
      build.once('exit', (code, signal) => {
        process.removeListener('exit', stopBuild);
        if (code === 0) resolveBuild();
        else reject(new Error(`the base's npm run build failed (${code ?? signal}):\n${output}`));
      });
    });
    const entry = join(dir, 'dist', 'main.js');
    if (!existsSync(entry)) throw new Error(`the base's build wrote no ${entry}`);
    return { commit, subject, dir, entry, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

function median(values) {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? finite[mid] : (finite[mid - 1] + finite[mid]) / 2;
}

/**
 * Runs every scenario `runs` times on each side, base first in every round. `runScenarioOnce(scenario,
 * serviceOptions)` and `reviewRun(label, result, notes)` are the http part's.
 */
export async function runAb({ base, scenarios, runs, runScenarioOnce, reviewRun, log }) {
  const notes = [];
  let correctnessFailed = false;
  const rows = [];
  for (const scenario of scenarios) {
    const results = { base: [], current: [] };
    for (let round = 1; round <= runs; round++) {
      for (const side of ['base', 'current']) {
        log(`ab: ${scenario.name} round ${round}/${runs}: ${side}`);
        const result = await runScenarioOnce(
          scenario,
          side === 'base' ? { entry: base.entry, cwd: base.dir } : {},
        );
        results[side].push(result);
        if (reviewRun(`${scenario.name} ${side} round ${round}`, result, notes)) correctnessFailed = true;
      }
    }
    const summary = (list) => ({
      rps: median(list.map((r) => r.measured.requestsPerSecondMean)),
      okPerSecond: median(list.map((r) => r.measured['2xx'] / r.measured.duration)),
      p50: median(list.map((r) => r.measured.latency.p50)),
      p99: median(list.map((r) => r.measured.latency.p99)),
      cpu: median(list.map((r) => r.cpuPerCommand)),
      rss: median(list.map((r) => r.rss)),
      lost: Math.max(...list.map((r) => r.verification.lost)),
      rpsAll: list.map((r) => r.measured['2xx'] / r.measured.duration),
      cpuAll: list.map((r) => r.cpuPerCommand),
    });
    rows.push({ scenario, base: summary(results.base), current: summary(results.current) });
  }
  return { base, runs, rows, notes, correctnessFailed };
}

const ratio = (current, base) =>
  Number.isFinite(current) && Number.isFinite(base) && base !== 0 ? `${(current / base).toFixed(2)}×` : '—';
const range = (values) => values.map((v) => Math.round(v)).join(', ');

export function abTable({ base, runs, rows, notes }, { duration, warmup }) {
  const out = [
    `### A/B: add-item over HTTP, base ${base.subject} vs the current checkout`,
    '',
    `${runs === 1 ? '1 round' : `${runs} rounds`} per scenario, base then current in each (a fresh service every run); ${duration} s measured after ${warmup} s warm-up; medians of the rounds, lost updates the worst.`,
    '',
    '| scenario | build | 2xx/s | 2xx/s per round | p50 ms | p99 ms | CPU ms/command | per round | service RSS MB | lost updates |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const { scenario, base: b, current: c } of rows) {
    const line = (label, s) =>
      `| ${scenario.name} | ${label} | ${Math.round(s.okPerSecond)} | ${range(s.rpsAll)} | ${fmt(s.p50)} | ${fmt(s.p99)} | ` +
      `${Number.isFinite(s.cpu) ? s.cpu.toFixed(3) : '—'} | ${s.cpuAll.map((v) => (Number.isFinite(v) ? v.toFixed(2) : '—')).join(', ')} | ` +
      `${Number.isFinite(s.rss) ? Math.round(s.rss) : '—'} | ${s.lost} |`;
    out.push(line('base', b), line('current', c));
    out.push(
      `| ${scenario.name} | **current ÷ base** | **${ratio(c.okPerSecond, b.okPerSecond)}** | | ${ratio(c.p50, b.p50)} | ` +
        `${ratio(c.p99, b.p99)} | **${ratio(c.cpu, b.cpu)}** | | ${ratio(c.rss, b.rss)} | |`,
    );
  }
  out.push(
    '',
    'CPU ms/command: the service process’s user + system CPU (/proc/<pid>/stat) during the measured load ÷ its 2xx add-item responses — the read side included, as it runs in the same process. ' +
      'Above 1× is better for 2xx/s, below 1× for latency, CPU and memory.',
  );
  for (const note of notes) out.push(`- ${note}`);
  return out.join('\n');
}
