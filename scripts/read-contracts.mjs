#!/usr/bin/env node
// Regenerates the read-contracts table of docs/consistency.md (between its markers) from
// src/operations/read-contracts.ts, as built in dist/ (`npm run docs:contracts` builds first). A test
// (test/unit/read-contracts.unit.spec.ts) fails while the docs and the code disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const { withReadContracts } = await import(resolve(root, 'dist/operations/read-contracts.js'));
const file = resolve(root, 'docs/consistency.md');
const before = readFileSync(file, 'utf8');
const after = withReadContracts(before);
if (after === before) {
  process.stdout.write('docs/consistency.md: the read contracts are up to date\n');
} else {
  writeFileSync(file, after);
  process.stdout.write('docs/consistency.md: the read contracts were regenerated\n');
}
