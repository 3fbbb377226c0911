#!/usr/bin/env node
/**
 * Node, honestly: every package `npm ci` installs (package-lock.json, devDependencies included) admits every
 * Node version that package.json's `engines` admits — so `npm ci` on a Node the README says works prints no
 * EBADENGINE warning — and the README names the same lowest version. Exits 1 listing what disagrees.
 *   node scripts/check-engines.mjs
 */
import { readFileSync } from 'node:fs';
import semver from 'semver';

const root = new URL('..', import.meta.url);
const read = (name) => readFileSync(new URL(name, root), 'utf8');
const pkg = JSON.parse(read('package.json'));
const lock = JSON.parse(read('package-lock.json'));
const admitted = pkg.engines?.node;
const problems = [];

if (!admitted || !semver.validRange(admitted)) {
  problems.push(`package.json: engines.node is missing or not a range: ${JSON.stringify(admitted)}`);
} else {
  if (lock.packages?.['']?.engines?.node !== admitted) {
    problems.push(
      'package-lock.json: its engines differ from package.json (run npm install --package-lock-only)',
    );
  }
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const range = path === '' ? undefined : entry.engines?.node;
    if (typeof range !== 'string') continue;
    if (!semver.validRange(range) || !semver.subset(admitted, range)) {
      problems.push(`${path.replace(/^(?:.*\/)?node_modules\//, '')}@${entry.version} wants node ${range}`);
    }
  }
  const lowest = semver.minVersion(admitted);
  const named = `Node ${lowest.major}.${lowest.minor}+`;
  if (!read('README.md').includes(named)) problems.push(`README.md does not say "${named}"`);
}

if (problems.length > 0) {
  process.stderr.write(
    `engines.node is ${JSON.stringify(admitted)}, but:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `engines.node ${admitted}: admitted by all ${Object.keys(lock.packages).length - 1} packages of the lockfile\n`,
);
