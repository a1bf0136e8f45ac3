// Proves the deployment files stay in step with the code: the image runs the CLI that exists, with
// the commands it has, and copies only paths that exist (no Docker engine here to build it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');

describe('deploy/', () => {
  it('copies existing paths and starts the CLI with commands it knows', () => {
    const dockerfile = read('deploy/Dockerfile');
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of match[1]!.split(/\s+/))
        assert.ok(existsSync(path.join(root, source)), `${source} exists`);
    }
    // The image runs the CLI as `npm run cli` does, with the same Node flags (package.json).
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts['cli']!, /^node .*src\/apps\/cli\.ts$/);
    assert.ok(
      dockerfile.includes(`ENTRYPOINT ${JSON.stringify(scripts['cli']!.split(' '))}`.replaceAll(',', ', ')),
      `the image's ENTRYPOINT is ${scripts['cli']}`,
    );
    const cli = read('src/apps/cli.ts');
    const compose = read('deploy/docker-compose.yml');
    for (const match of compose.matchAll(/command: \['(\w+)'/g))
      assert.match(cli, new RegExp(`case '${match[1]!}'`));
    assert.match(dockerfile, /FROM node:24/, 'the image runs the Node version package.json pins');
  });
});
