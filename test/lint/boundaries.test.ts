// Proves the lint rule that keeps platform/ free of contexts and contexts behind their index.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { boundariesPlugin } from '../../eslint/boundaries.js';

const root = path.resolve(import.meta.dirname, '..', '..');

const eslint = new ESLint({
  cwd: root,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser },
      plugins: { croupier: boundariesPlugin },
      rules: { 'croupier/import-boundaries': 'error' },
    },
  ],
});

async function problems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((message) => message.message);
}

describe('import boundaries', () => {
  it('forbids platform/ from importing a context or an app', async () => {
    assert.equal(
      (await problems('src/platform/http/x.ts', "import { a } from '../../contexts/wallet/index.ts';"))
        .length,
      1,
    );
    assert.equal((await problems('src/platform/x.ts', "export * from '../apps/cli.ts';")).length, 1);
    assert.deepEqual(await problems('src/platform/http/x.ts', "import { a } from '../db/index.ts';"), []);
  });

  it('lets a context import another only through its index.ts', async () => {
    const file = 'src/contexts/games/games.service.ts';
    assert.deepEqual(await problems(file, "import type { WalletClient } from '../wallet/index.ts';"), []);
    assert.equal((await problems(file, "import { sql } from '../wallet/wallet.repository.ts';")).length, 1);
    assert.equal(
      (
        await problems(
          'src/contexts/games/test/deep.test.ts',
          "import { x } from '../../wallet/wallet.service.ts';",
        )
      ).length,
      1,
    );
    assert.equal((await problems(file, "const m = await import('../wallet/wallet.service.ts');")).length, 1);
    assert.deepEqual(await problems(file, "import { x } from './games.repository.ts';"), []);
    assert.deepEqual(await problems(file, "import { y } from '../../platform/db/index.ts';"), []);
  });

  it('forbids a context from importing a composition root', async () => {
    assert.equal(
      (await problems('src/contexts/pam/pam.routes.ts', "import { serve } from '../../apps/serve.ts';"))
        .length,
      1,
    );
  });
});
