// Proves secrets (passwords, tokens, signatures, wallet secrets) never reach a log line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrlQuery } from '../logger.ts';

function capture(): { stream: Writable; lines: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, lines: () => chunks.join('') };
}

describe('logger', () => {
  it('redacts secrets at any of the first three levels', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    logger.info(
      {
        password: 'hunter2-top',
        body: { password: 'hunter2-body', refreshToken: 'rt-secret', amount: '10.00' },
        req: {
          headers: { authorization: 'Bearer at-secret', 'x-croupier-signature': 'sig-secret', host: 'x' },
        },
        provider: { walletSecret: 'ws-secret' },
      },
      'login attempt',
    );
    const text = lines();
    for (const secret of [
      'hunter2-top',
      'hunter2-body',
      'rt-secret',
      'at-secret',
      'sig-secret',
      'ws-secret',
    ]) {
      assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.ok(text.includes('10.00'), 'ordinary fields stay');
    assert.ok(text.includes('[redacted]'));
    const line = JSON.parse(text.trim().split('\n')[0]!) as Record<string, unknown>;
    assert.equal(line['level'], 'info');
    assert.equal(line['msg'], 'login attempt');
  });

  it('strips secret-looking query values from URLs', () => {
    assert.equal(redactUrlQuery('/launch?token=abc&game=x'), '/launch?token=[redacted]&game=x');
    assert.equal(
      redactUrlQuery('/x?sessionToken=s&apiKey=k'),
      '/x?sessionToken=[redacted]&apiKey=[redacted]',
    );
    assert.equal(redactUrlQuery('/plain'), '/plain');
  });
});
