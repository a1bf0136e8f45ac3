// Proves the README's configuration table lists exactly the variables the code reads, with their defaults.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configDocs } from '../../src/platform/config/index.ts';

describe('README', () => {
  it('documents every configuration variable and default', () => {
    const readme = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `([A-Z_]+)` +\| ([^|]+?) +\| ([^|]+?) +\|$/gm)].map((m) => [
      m[1],
      m[2]!.trim(),
    ]);
    assert.deepEqual(
      rows,
      configDocs.map((item) => [item.variable, item.fallback]),
    );
  });
});
