// @ts-check
/**
 * The ordertrail admin page: a plain ES module, no build step, no dependency. It reads and drives the admin
 * API of the service that serves it (`/admin/projections`, `/admin/jobs`) with the operator token pasted
 * in at sign-in, kept in sessionStorage (this tab only). Everything the service says is put on the page as
 * text (textContent), never as HTML; the page's Content-Security-Policy allows no inline script or style.
 */

const TOKEN_KEY = 'ordertrail.operatorToken';
const REFRESH_MS = 2500;
const JOB_POLL_MS = 1000;
/** Lag samples kept per projection: 48 refreshes of 2.5 s, two minutes. */
const SAMPLES = 48;
const SVG = 'http://www.w3.org/2000/svg';

/**
 * @typedef {{ status?: number, title?: string, detail?: string, code?: string, jobId?: string,
 *   errors?: { field: string, message: string }[] }} Problem
 * @typedef {{ id: string, kind: string, phase: string, eventsDone: number, eventsTotal: number }} ActiveJob
 * @typedef {{ budgetMs: number, p50Ms: number | null, p99Ms: number | null, samples: number,
 *   windowSeconds: number, overBudget: number }} Freshness
 * @typedef {{ name: string, kind: string, status: string, healthy: boolean, paused: boolean,
 *   liveGeneration: number | null, position: number | null, headPosition: number, lagEvents: number,
 *   lagEventsCapped: boolean, lagMs: number, freshness: Freshness | null, eventsPerSecond: number,
 *   parked: number, lastHeartbeat: string | null, lastError: string | null, owner: string | null,
 *   job: ActiveJob | null, degraded?: boolean,
 *   consistency?: { driftedCount: number, drifted: { id: string, streamId: string | null, fields: string[] }[] }
 *     | null }} Projection
 * @typedef {{ collection: string, id: string, kind: string, repaired: boolean,
 *   fields: { path: string, live: unknown, expected: unknown, presence?: string }[] }} Drift
 * @typedef {{ compared: number, drifted: number, repaired: number, pending: number, truncated: boolean,
 *   drift: Drift[] }} VerifyResult
 * @typedef {{ id: string, kind: string, projection: string, state: string, phase: string, generation: number,
 *   fromGeneration: number, eventsDone: number, eventsTotal: number, progress: number, rate: number,
 *   etaSeconds: number | null, replacedGeneration: number | null, dropAt: string | null,
 *   startedAt: string, finishedAt: string | null, error: string | null,
 *   cancelRequested: boolean, skippedCount: number, result: VerifyResult | null, links: { self: string } }} Job
 * @typedef {{ tr: HTMLTableRowElement, status: HTMLElement, generation: HTMLElement, position: HTMLElement,
 *   lag: HTMLElement, chart: SVGSVGElement, freshness: HTMLElement, rate: HTMLElement, parked: HTMLElement,
 *   replay: HTMLButtonElement, heartbeat: HTMLElement, owner: HTMLElement, pause: HTMLButtonElement,
 *   rebuild: HTMLButtonElement | null,
 *   verify: HTMLButtonElement | null }} Row
 * @typedef {{ li: HTMLLIElement, title: HTMLElement, state: HTMLElement, bar: HTMLElement, fill: HTMLElement,
 *   percent: HTMLElement, facts: HTMLElement, detail: HTMLElement, cancel: HTMLButtonElement }} JobItem
 */

/** The status of an answer that arrived after its session ended (sign-out, another sign-in). */
const STALE = -1;

class ApiError extends Error {
  /** @param {number} status 0: no answer, STALE: an answer to an ended session @param {Problem} problem */
  constructor(status, problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

const state = {
  /** @type {string | null} */
  token: sessionStorage.getItem(TOKEN_KEY),
  /** @type {Map<string, Row>} */
  rows: new Map(),
  /** @type {Map<string, number[]>} */
  lag: new Map(),
  /** @type {Map<string, Job>} */
  jobs: new Map(),
  /** @type {Map<string, JobItem>} */
  jobItems: new Map(),
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  refreshTimer: undefined,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  jobTimer: undefined,
  /** Bumped at sign-in and sign-out: answers to requests of an earlier session are dropped. */
  session: 0,
  /** The banner shows a lost connection (cleared by the next good refresh). */
  offline: false,
};

// ---------------------------------------------------------------------------------------------------------
// DOM helpers

/** @param {string} id */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing`);
  return element;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag @param {Record<string, string>} [attributes] @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
function h(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

const numbers = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
/** @param {number} value */
const count = (value) => numbers.format(value);

/** @param {number} ms */
function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** @param {string | null} iso */
function ago(iso) {
  if (iso === null) return '—';
  return `${duration(Math.max(0, Date.now() - Date.parse(iso)))} ago`;
}

/** @param {number} progress 0..1 → whole percent, 100 only when done */
function percent(progress) {
  return Math.floor(Math.min(1, Math.max(0, progress)) * 100);
}

// ---------------------------------------------------------------------------------------------------------
// The admin API

/**
 * @param {string} method @param {string} path @param {object} [body]
 * @returns {Promise<{ data: any, location: string | null }>}
 */
async function api(method, path, body) {
  const session = state.session;
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', authorization: `Bearer ${state.token ?? ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  /** @type {Response} */
  let response;
  /** @type {string} */
  let text;
  try {
    response = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      credentials: 'omit',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    text = await response.text();
  } catch (error) {
    throw new ApiError(0, {
      detail: `Cannot reach the service (${error instanceof Error ? error.message : error})`,
    });
  }
  /** @type {any} */
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  // Signed out (or in again) meanwhile: the answer belongs to a session that is over.
  if (session !== state.session) throw new ApiError(STALE, { detail: 'the session ended meanwhile' });
  if (!response.ok) {
    const error = new ApiError(response.status, data && typeof data === 'object' ? data : { detail: text });
    if (response.status === 401 || response.status === 403) signOut(refusal(error));
    throw error;
  }
  return { data, location: response.headers.get('location') };
}

/** @param {ApiError} error */
function refusal(error) {
  const detail = error.problem.detail ?? '';
  return error.status === 403
    ? `This token does not have the operator role (${detail}). Sign in with an operator token.`
    : `The service refused the token: ${detail || 'unauthorized'}. Sign in again.`;
}

/**
 * Nothing to show: a refused token (the sign-in form says why) or an answer to a session that is over.
 * @param {unknown} error
 */
const nothingToShow = (error) =>
  error instanceof ApiError && (error.status === 401 || error.status === 403 || error.status === STALE);

// ---------------------------------------------------------------------------------------------------------
// Messages

/** @param {string} text @param {'error' | 'info'} kind */
function showBanner(text, kind = 'error') {
  const banner = byId('banner');
  banner.className = `message ${kind}`;
  byId('banner-text').textContent = text;
  banner.hidden = false;
}

function hideBanner() {
  byId('banner').hidden = true;
  state.offline = false;
}

/** @param {string} action @param {unknown} error */
function reportFailure(action, error) {
  if (nothingToShow(error) || !(error instanceof ApiError)) {
    if (!(error instanceof ApiError)) console.error(error);
    return;
  }
  const code = error.problem.code ? ` (${error.problem.code})` : '';
  const status = error.status ? ` — HTTP ${error.status}` : '';
  showBanner(`${action} failed: ${error.message}${code}${status}`);
}

// ---------------------------------------------------------------------------------------------------------
// Session

/** @param {string} token */
function claimsOf(token) {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json);
    return typeof claims === 'object' && claims !== null ? claims : {};
  } catch {
    return {};
  }
}

/** @param {string} [message] shown on the sign-in form */
function signOut(message) {
  state.session += 1;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(state.refreshTimer);
  clearTimeout(state.jobTimer);
  state.rows.clear();
  state.lag.clear();
  state.jobs.clear();
  state.jobItems.clear();
  byId('projections').querySelector('tbody')?.replaceChildren();
  byId('jobs').replaceChildren();
  byId('no-jobs').hidden = false;
  byId('console').hidden = true;
  byId('session').hidden = true;
  byId('sign-in').hidden = false;
  const note = byId('sign-in-message');
  note.textContent = message ?? '';
  note.hidden = !message;
  const input = /** @type {HTMLTextAreaElement} */ (byId('token'));
  input.value = '';
  input.focus();
}

/** @param {string} token */
function signIn(token) {
  state.session += 1;
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  const claims = claimsOf(token);
  const roles = Array.isArray(claims.roles) ? claims.roles.join(', ') : 'no roles';
  byId('who').textContent = `${typeof claims.sub === 'string' ? claims.sub : 'unknown'} (${roles})`;
  byId('sign-in').hidden = true;
  byId('sign-in-message').hidden = true;
  byId('session').hidden = false;
  byId('console').hidden = false;
  hideBanner();
  void refresh();
  void loadJobs();
}

// ---------------------------------------------------------------------------------------------------------
// Projections

async function refresh() {
  clearTimeout(state.refreshTimer);
  const session = state.session;
  try {
    const { data } = await api('GET', '/admin/projections');
    /** @type {Projection[]} */
    const items = data.items;
    renderProjections(items);
    byId('updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    if (state.offline) hideBanner();
    for (const projection of items) {
      // A job started elsewhere (the CLI, another operator): follow it too.
      if (projection.job && !state.jobs.has(projection.job.id))
        void followJob(`/admin/jobs/${projection.job.id}`);
    }
  } catch (error) {
    if (nothingToShow(error)) return;
    if (error instanceof ApiError && error.status === 0) {
      state.offline = true;
      showBanner(`${error.message}. Retrying every ${REFRESH_MS / 1000} s.`);
    } else reportFailure('Refreshing the projections', error);
  }
  if (session === state.session) state.refreshTimer = setTimeout(refresh, REFRESH_MS);
}

/** @param {Projection[]} items */
function renderProjections(items) {
  const tbody = /** @type {HTMLTableSectionElement} */ (byId('projections').querySelector('tbody'));
  const seen = new Set();
  for (const projection of items) {
    seen.add(projection.name);
    let row = state.rows.get(projection.name);
    if (!row) {
      row = createRow(projection);
      state.rows.set(projection.name, row);
      tbody.append(row.tr);
    }
    updateRow(row, projection);
  }
  for (const [name, row] of state.rows) {
    if (!seen.has(name)) {
      row.tr.remove();
      state.rows.delete(name);
    }
  }
}

/** @param {Projection} projection @returns {Row} */
function createRow(projection) {
  const { name } = projection;
  const cell = () => h('td');
  const numeric = () => h('td', { class: 'num' });
  const status = h('span', { class: 'status', 'data-status': '' });
  const generation = numeric();
  const position = numeric();
  const lag = numeric();
  const chart = /** @type {SVGSVGElement} */ (document.createElementNS(SVG, 'svg'));
  chart.setAttribute('viewBox', '0 0 120 28');
  chart.setAttribute('class', 'sparkline');
  chart.setAttribute('role', 'img');
  chart.append(
    svg('line', { class: 'base', x1: '0', y1: '26.5', x2: '120', y2: '26.5' }),
    svg('path', { class: 'area' }),
    svg('polyline', { class: 'line' }),
    svg('title'),
  );
  const freshness = numeric();
  const rate = numeric();
  const parkedCount = h('span', { class: 'parked-count' });
  const replay = h(
    'button',
    {
      type: 'button',
      'data-action': 'replay',
      'data-name': name,
      'aria-label': `Replay parked events of ${name}`,
    },
    ['Replay'],
  );
  const parked = h('td', { class: 'num' }, [parkedCount, ' ', replay]);
  const heartbeat = cell();
  const owner = cell();
  const pause = h('button', { type: 'button', 'data-action': 'pause', 'data-name': name }, ['Pause']);
  const isProjection = projection.kind === 'projection';
  const rebuild = isProjection
    ? h(
        'button',
        { type: 'button', 'data-action': 'rebuild', 'data-name': name, 'aria-label': `Rebuild ${name}` },
        ['Rebuild'],
      )
    : null;
  const verify = isProjection
    ? h(
        'button',
        { type: 'button', 'data-action': 'verify', 'data-name': name, 'aria-label': `Verify ${name}` },
        ['Verify'],
      )
    : null;
  const actions = h('td', {}, [
    h('div', { class: 'actions' }, [pause, ...(rebuild ? [rebuild] : []), ...(verify ? [verify] : [])]),
  ]);
  const title = h('th', { scope: 'row' }, [name]);
  if (!isProjection) title.append(h('span', { class: 'muted small block' }, [projection.kind]));
  const tr = h('tr', { 'data-projection': name }, [
    title,
    h('td', {}, [status]),
    generation,
    position,
    lag,
    h('td', {}, [chart]),
    freshness,
    rate,
    parked,
    heartbeat,
    owner,
    actions,
  ]);
  return {
    tr,
    status,
    generation,
    position,
    lag,
    chart,
    freshness,
    rate,
    parked: parkedCount,
    replay,
    heartbeat,
    owner,
    pause,
    rebuild,
    verify,
  };
}

/** @param {string} tag @param {Record<string, string>} [attributes] */
function svg(tag, attributes = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  return element;
}

/** @param {Row} row @param {Projection} p */
function updateRow(row, p) {
  const share = p.job && p.job.eventsTotal > 0 ? ` ${percent(p.job.eventsDone / p.job.eventsTotal)}%` : '';
  // Degraded: the consistency sampler found documents that differ from their streams (verify --repair fixes them).
  const degraded = p.degraded === true ? ', degraded' : '';
  row.status.textContent = p.job
    ? `${p.status}${p.status === 'rebuilding' ? '' : ` (${p.job.kind})`}${share}${degraded}`
    : `${p.status}${degraded}`;
  row.status.dataset.status = p.degraded === true && p.status === 'running' ? 'degraded' : p.status;
  const drifted = p.consistency?.drifted[0];
  row.status.title = p.lastError
    ? `last error: ${p.lastError}`
    : p.degraded === true && drifted
      ? `${p.consistency?.driftedCount} document(s) differ from their streams, e.g. ${drifted.id} (${drifted.fields.join(', ')}): verify with repair`
      : p.healthy
        ? 'healthy'
        : 'not making progress';
  row.generation.textContent = p.liveGeneration === null ? '—' : String(p.liveGeneration);
  row.position.textContent = p.position === null ? '—' : count(p.position);
  row.position.title = `head of the store: ${count(p.headPosition)}`;
  row.lag.replaceChildren(
    `${count(p.lagEvents)}${p.lagEventsCapped ? '+' : ''} events`,
    h('span', { class: 'muted small block' }, [p.lagMs === 0 ? 'caught up' : duration(p.lagMs)]),
  );
  const samples = state.lag.get(p.name) ?? [];
  samples.push(p.lagEvents);
  if (samples.length > SAMPLES) samples.splice(0, samples.length - SAMPLES);
  state.lag.set(p.name, samples);
  drawSparkline(row.chart, samples, p.lagMs);
  updateFreshness(row.freshness, p.freshness);
  row.rate.textContent = count(p.eventsPerSecond);
  row.parked.textContent = count(p.parked);
  row.parked.dataset.parked = String(p.parked);
  row.replay.disabled = p.parked === 0;
  row.heartbeat.textContent = ago(p.lastHeartbeat);
  // With several instances, the one delivering the group (its lease); EventStoreDB: none in particular.
  row.owner.textContent = p.owner ?? '—';
  row.pause.textContent = p.paused ? 'Resume' : 'Pause';
  row.pause.dataset.action = p.paused ? 'resume' : 'pause';
  row.pause.setAttribute('aria-label', `${p.paused ? 'Resume' : 'Pause'} ${p.name}`);
  if (row.rebuild) row.rebuild.disabled = p.job !== null;
  if (row.verify) row.verify.disabled = p.job !== null;
}

/**
 * p50/p99 of the time from append to application, over the budget (red past it), or — with nothing applied
 * lately (or for a process manager, which has no read model).
 * @param {HTMLElement} cell @param {Freshness | null} f
 */
function updateFreshness(cell, f) {
  if (!f) {
    cell.replaceChildren('—');
    delete cell.dataset.over;
    return;
  }
  const measured = f.p50Ms === null || f.p99Ms === null ? '—' : `${duration(f.p50Ms)} / ${duration(f.p99Ms)}`;
  cell.replaceChildren(
    measured,
    h('span', { class: 'muted small block' }, [`budget ${duration(f.budgetMs)}`]),
  );
  cell.dataset.over = String(f.p99Ms !== null && f.p99Ms > f.budgetMs);
  cell.title = `p50 / p99 of ${count(f.samples)} applications in the last ${duration(f.windowSeconds * 1000)}; ${count(f.overBudget)} over budget since this instance started`;
}

/** @param {SVGSVGElement} chart @param {number[]} samples @param {number} lagMs */
function drawSparkline(chart, samples, lagMs) {
  const max = Math.max(1, ...samples);
  const step = 120 / (SAMPLES - 1);
  const offset = (SAMPLES - samples.length) * step;
  const points = samples.map(
    (value, i) => `${(offset + i * step).toFixed(1)},${(26 - (value / max) * 24).toFixed(1)}`,
  );
  chart.querySelector('polyline')?.setAttribute('points', points.join(' '));
  const first = points[0]?.split(',')[0] ?? '0';
  const last = points.at(-1)?.split(',')[0] ?? '0';
  chart
    .querySelector('path')
    ?.setAttribute('d', points.length ? `M${first},27 L${points.join(' L')} L${last},27 Z` : '');
  const now = samples.at(-1) ?? 0;
  const label = `Lag over the last ${samples.length} refreshes: now ${count(now)} events (${duration(lagMs)}), highest ${count(Math.max(0, ...samples))}`;
  const title = chart.querySelector('title');
  if (title) title.textContent = label;
  chart.setAttribute('aria-label', label);
}

// ---------------------------------------------------------------------------------------------------------
// Jobs

async function loadJobs() {
  try {
    const { data } = await api('GET', '/admin/jobs?limit=5');
    /** @type {Job[]} */
    const items = data.items;
    for (const job of [...items].reverse()) showJob(job);
    if (items.some((job) => job.state === 'running')) scheduleJobPoll();
  } catch (error) {
    reportFailure('Loading the jobs', error);
  }
}

/** @param {string} location */
async function followJob(location) {
  try {
    const { data } = await api('GET', location);
    showJob(data);
    scheduleJobPoll();
  } catch (error) {
    reportFailure('Following the job', error);
  }
}

function scheduleJobPoll() {
  clearTimeout(state.jobTimer);
  const session = state.session;
  state.jobTimer = setTimeout(async () => {
    const running = [...state.jobs.values()].filter((job) => job.state === 'running');
    let ended = false;
    for (const job of running) {
      try {
        const { data } = await api('GET', job.links.self);
        showJob(data);
        if (data.state !== 'running') ended = true;
      } catch (error) {
        if (nothingToShow(error)) return;
        if (error instanceof ApiError && error.status === 404) {
          state.jobs.set(job.id, { ...job, state: 'forgotten' });
        } else reportFailure('Following the job', error);
      }
    }
    if (session !== state.session) return;
    // A job that ended changes the projection (new generation, status back to running): show it now.
    if (ended) void refresh();
    if ([...state.jobs.values()].some((job) => job.state === 'running')) scheduleJobPoll();
  }, JOB_POLL_MS);
}

/** @param {Job} job */
function showJob(job) {
  state.jobs.set(job.id, job);
  let item = state.jobItems.get(job.id);
  if (!item) {
    item = createJobItem(job);
    state.jobItems.set(job.id, item);
    const list = byId('jobs');
    list.prepend(item.li);
    // The newest ten stay on the page.
    while (list.children.length > 10) {
      const last = /** @type {HTMLElement} */ (list.lastElementChild);
      state.jobItems.delete(last.dataset.job ?? '');
      state.jobs.delete(last.dataset.job ?? '');
      last.remove();
    }
    byId('no-jobs').hidden = true;
  }
  updateJobItem(item, job);
}

/** @param {Job} job @returns {JobItem} */
function createJobItem(job) {
  const title = h('strong', {}, [`${job.kind} · ${job.projection}`]);
  const stateBadge = h('span', { class: 'status' });
  const fill = h('div', { class: 'fill' });
  const bar = h(
    'div',
    {
      class: 'bar',
      role: 'progressbar',
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-label': `${job.kind} of ${job.projection}`,
    },
    [fill],
  );
  const percentText = h('span', { class: 'percent' });
  const facts = h('span', { class: 'facts muted' });
  const detail = h('div', { class: 'detail' });
  const cancel = h(
    'button',
    {
      type: 'button',
      'data-action': 'cancel',
      'data-job': job.id,
      'aria-label': `Cancel the ${job.kind} of ${job.projection}`,
    },
    ['Cancel'],
  );
  const li = h(
    'li',
    { class: 'job card', 'data-job': job.id, 'data-kind': job.kind, 'data-projection': job.projection },
    [
      h('div', { class: 'job-head' }, [
        title,
        stateBadge,
        h('span', { class: 'muted small' }, [`job ${job.id}`]),
        cancel,
      ]),
      h('div', { class: 'job-progress' }, [bar, percentText]),
      facts,
      detail,
    ],
  );
  return { li, title, state: stateBadge, bar, fill, percent: percentText, facts, detail, cancel };
}

/** @param {JobItem} item @param {Job} job */
function updateJobItem(item, job) {
  const value = job.state === 'succeeded' ? 100 : percent(job.progress);
  item.li.dataset.state = job.state;
  item.state.textContent = job.state === 'running' ? `${job.state} · ${job.phase}` : job.state;
  item.state.dataset.status = job.state;
  item.fill.style.width = `${value}%`;
  item.bar.setAttribute('aria-valuenow', String(value));
  item.percent.textContent = `${value}%`;
  const facts = [`${count(job.eventsDone)} / ${count(job.eventsTotal)} events`];
  if (job.rate > 0) facts.push(`${count(job.rate)} events/s`);
  if (job.state === 'running') facts.push(phaseFact(job));
  else if (job.finishedAt)
    facts.push(`took ${duration(Date.parse(job.finishedAt) - Date.parse(job.startedAt))}`);
  if (job.kind === 'rebuild') facts.push(`generation ${job.fromGeneration} → ${job.generation}`);
  if (job.skippedCount > 0) facts.push(`${job.skippedCount} streams skipped (poison events)`);
  item.facts.textContent = facts.join(' · ');
  item.cancel.hidden = job.state !== 'running';
  item.cancel.disabled = job.cancelRequested;
  item.detail.replaceChildren(...jobDetail(job));
}

/**
 * What a running job does now: an ETA only while it builds; the switch as it is; the grace period before the
 * old generation is dropped as a countdown to `dropAt`.
 * @param {Job} job @returns {string}
 */
function phaseFact(job) {
  if (job.phase === 'switching') return `switching to generation ${job.generation}`;
  if (job.phase === 'draining') {
    const old = job.replacedGeneration ?? job.fromGeneration;
    const left = job.dropAt === null ? null : Date.parse(job.dropAt) - Date.now();
    const when = left === null ? 'soon' : left > 0 ? `in ${duration(Math.ceil(left / 100) * 100)}` : 'now';
    return `generation ${job.generation} live · dropping generation ${old} ${when}`;
  }
  if (job.phase !== 'building') return job.phase;
  return `ETA ${job.etaSeconds === null ? '…' : job.etaSeconds < 1 ? '< 1 s' : duration(job.etaSeconds * 1000)}`;
}

/** @param {Job} job @returns {Node[]} */
function jobDetail(job) {
  if (job.error) return [h('p', { class: 'message error' }, [job.error])];
  const result = job.result;
  if (!result) return [];
  const summary = h('p', {}, [
    `${count(result.compared)} documents compared · ${count(result.drifted)} drifted · ${count(result.repaired)} repaired · ${count(result.pending)} pending`,
  ]);
  if (result.drift.length === 0) return [summary];
  const rows = result.drift
    .slice(0, 20)
    .flatMap((doc) =>
      (doc.fields.length ? doc.fields : [{ path: '—', live: '—', expected: '—', presence: undefined }]).map(
        (field) =>
          h('tr', {}, [
            h('td', {}, [doc.collection]),
            h('td', { class: 'mono' }, [doc.id]),
            h('td', {}, [doc.kind + (doc.repaired ? ' (repaired)' : '')]),
            h('td', { class: 'mono' }, [field.path]),
            h('td', { class: 'mono' }, [
              field.presence === 'expected-only' ? '(absent)' : JSON.stringify(field.live),
            ]),
            h('td', { class: 'mono' }, [
              field.presence === 'live-only' ? '(absent)' : JSON.stringify(field.expected),
            ]),
          ]),
      ),
    );
  const head = h(
    'tr',
    {},
    ['Collection', 'Id', 'Kind', 'Field', 'Live', 'Expected'].map((label) =>
      h('th', { scope: 'col' }, [label]),
    ),
  );
  const more =
    result.drift.length > 20 || result.truncated
      ? [
          h('p', { class: 'muted small' }, [
            `The first 20 of ${count(result.drifted)} drifted documents (the CLI prints them all).`,
          ]),
        ]
      : [];
  return [summary, h('table', { class: 'drift' }, [h('thead', {}, [head]), h('tbody', {}, rows)]), ...more];
}

// ---------------------------------------------------------------------------------------------------------
// Actions

/** @param {string} action @param {HTMLButtonElement} button */
async function act(action, button) {
  const name = button.dataset.name ?? '';
  const path = `/admin/projections/${encodeURIComponent(name)}`;
  button.disabled = true;
  try {
    if (action === 'pause' || action === 'resume') {
      const { data } = await api('POST', `${path}/${action}`);
      const row = state.rows.get(name);
      if (row) updateRow(row, data);
    } else if (action === 'rebuild' || action === 'verify') {
      const { data, location } = await api('POST', `${path}/${action}`);
      showJob(data);
      void followJob(location ?? data.links.self);
    } else if (action === 'replay') {
      const { data } = await api('POST', `${path}/parked/replay`);
      showBanner(
        `Replayed ${count(data.replayed)} parked event${data.replayed === 1 ? '' : 's'} of ${name}: delivered again (an event that still fails is parked again).`,
        'info',
      );
    } else if (action === 'cancel') {
      const { data } = await api('DELETE', `/admin/jobs/${encodeURIComponent(button.dataset.job ?? '')}`);
      showJob(data);
      scheduleJobPoll();
    }
  } catch (error) {
    const label =
      action === 'replay'
        ? `Replaying the parked events of ${name}`
        : action === 'cancel'
          ? 'Cancelling the job'
          : `${action[0]?.toUpperCase()}${action.slice(1)} of ${name}`;
    reportFailure(label, error);
    const jobId = error instanceof ApiError ? error.problem.jobId : undefined;
    if (typeof jobId === 'string') void followJob(`/admin/jobs/${jobId}`);
  } finally {
    button.disabled = false;
    if (state.token) void refresh();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Wiring

byId('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = /** @type {HTMLTextAreaElement} */ (byId('token'));
  const token = input.value.trim().replace(/^bearer\s+/i, '');
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    const note = byId('sign-in-message');
    note.textContent = 'That is not a JWT (three base64url parts separated by dots).';
    note.hidden = false;
    return;
  }
  signIn(token);
});

byId('sign-out').addEventListener('click', () => signOut('Signed out.'));
byId('banner-close').addEventListener('click', hideBanner);

for (const container of [byId('projections'), byId('jobs')]) {
  container.addEventListener('click', (event) => {
    const target = /** @type {Element} */ (event.target);
    const button = target.closest('button[data-action]');
    if (button instanceof HTMLButtonElement && !button.disabled)
      void act(button.dataset.action ?? '', button);
  });
}

if (state.token) signIn(state.token);
else signOut();
