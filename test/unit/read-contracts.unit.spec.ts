import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  contractExtension,
  contractSentence,
  defaultWindow,
  READ_CONTRACTS,
  READ_CONTRACTS_BEGIN,
  readContractsMarkdown,
  withReadContracts,
} from '../../src/operations/read-contracts.js';

const CONSISTENCY = resolve(import.meta.dirname, '../../docs/consistency.md');

describe('the read contracts', () => {
  it('docs/consistency.md shows the table of the code (npm run docs:contracts regenerates it)', () => {
    const document = readFileSync(CONSISTENCY, 'utf8');
    expect(document).toContain(READ_CONTRACTS_BEGIN);
    expect(withReadContracts(document)).toBe(document);
  });

  it('the table has a row per route, saying pattern, default staleness, wait and what happens past the bound', () => {
    const lines = readContractsMarkdown().split('\n');
    expect(lines).toHaveLength(2 + Object.keys(READ_CONTRACTS).length);
    expect(lines.find((line) => line.startsWith('| `GET /orders` |'))).toBe(
      '| `GET /orders` | bulk | the `order_search` read model | — | unbounded; normally ≤ 5 s (the budget of ' +
        '`order_search`) | `max-stale`, `maxStaleMs` | none | past `max-stale`: `503 READ_MODEL_TOO_STALE` ' +
        '(how stale, in ms) with `Retry-After`: the read model’s budget |',
    );
    expect(lines.find((line) => line.startsWith('| `GET /carts/:id` |'))).toContain(
      '| cached | the `carts` read model |',
    );
    expect(lines.find((line) => line.startsWith('| `GET /carts/:id` |'))).toContain(
      '| `READ_WAIT_MS` (2 s) |',
    );
  });

  it('every cached or bulk route names its read model; the others name none', () => {
    for (const [route, contract] of Object.entries(READ_CONTRACTS)) {
      const reads = contract.pattern === 'cached' || contract.pattern === 'bulk';
      expect({ route, readModel: contract.readModel !== null, bound: contract.clientBound }).toEqual({
        route,
        readModel: reads,
        bound: reads,
      });
    }
  });

  it('the OpenAPI form states the budgets and READ_WAIT_MS in force', () => {
    const runtime = { budgets: new Map([['carts', 250]]), readWaitMs: 1500 };
    const carts = READ_CONTRACTS['GET /carts/:id']!;
    expect(contractExtension(carts, runtime)).toMatchObject({
      pattern: 'cached',
      readModel: 'carts',
      freshnessBudgetMs: 250,
      defaultStaleness: 'unbounded; normally ≤ 250 ms (the budget of `carts`)',
      clientBound: ['Cache-Control: max-stale=<seconds>', 'maxStaleMs'],
      maxWaitMs: 1500,
    });
    expect(contractSentence(carts, runtime)).toContain('waits at most `READ_WAIT_MS` (1.5 s)');
    const state = READ_CONTRACTS['GET /orders/:id/state']!;
    expect(contractExtension(state, runtime)).toMatchObject({
      pattern: 'consistent',
      readModel: null,
      maxWaitMs: 0,
      clientBound: [],
    });
    expect(defaultWindow(state)).toBe('0 (current)');
  });
});
