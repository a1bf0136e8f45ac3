// Proves configuration is validated once, frozen, and that a bad value names its variable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../config.ts';

describe('config', () => {
  it('applies the contract defaults when the environment is empty', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.dataDir, './data');
    assert.equal(config.databaseUrl, undefined);
    assert.equal(config.natsUrl, undefined);
    assert.equal(config.gameSessionTtlSeconds, 14400);
    assert.equal(config.rateLimitScale, 1);
    assert.deepEqual(config.currencies.codes(), ['EUR', 'USD', 'GBP', 'JPY', 'BTC']);
    assert.ok(Object.isFrozen(config));
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '9090',
      HOST: '0.0.0.0',
      CROUPIER_DATA_DIR: '/tmp/x',
      DATABASE_URL: 'postgres://u:p@db:5432/croupier',
      NATS_URL: 'nats://a:4222,nats://b:4222',
      CROUPIER_ADMIN_EMAIL: 'ops@example.com',
      CROUPIER_ADMIN_PASSWORD: 'correct horse battery',
      CROUPIER_GAME_SESSION_TTL_SECONDS: '60',
      CROUPIER_RATE_LIMIT_SCALE: '0',
      CROUPIER_CURRENCIES: 'EUR:2,JPY:0',
    });
    assert.equal(config.port, 9090);
    assert.equal(config.databaseUrl, 'postgres://u:p@db:5432/croupier');
    assert.equal(config.natsUrl, 'nats://a:4222,nats://b:4222');
    assert.equal(config.rateLimitScale, 0);
    assert.equal(config.gameSessionTtlSeconds, 60);
    assert.deepEqual(config.currencies.codes(), ['EUR', 'JPY']);
  });

  it('treats an empty variable as unset', () => {
    assert.equal(loadConfig({ DATABASE_URL: '', PORT: '' }).port, 8080);
  });

  const bad: [string, string][] = [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x/y'],
    ['DATABASE_URL', 'not a url'],
    ['NATS_URL', 'http://127.0.0.1:4222'],
    ['CROUPIER_ADMIN_EMAIL', 'nobody'],
    ['CROUPIER_ADMIN_PASSWORD', 'short'],
    ['CROUPIER_GAME_SESSION_TTL_SECONDS', '-5'],
    ['CROUPIER_RATE_LIMIT_SCALE', '-1'],
    ['CROUPIER_CURRENCIES', 'EUR:2,EUR:3'],
    ['LOG_LEVEL', 'loud'],
  ];
  for (const [variable, value] of bad) {
    it(`refuses ${variable}=${value} and names the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.variables.includes(variable) &&
          error.message.includes(variable),
      );
    });
  }

  it('reports every bad variable at once and never echoes a password in a URL', () => {
    try {
      loadConfig({ PORT: 'x', DATABASE_URL: 'mysql://user:hunter2@db/x', LOG_LEVEL: 'loud' });
      assert.fail('must throw');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual([...error.variables].sort(), ['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
      assert.ok(!error.message.includes('hunter2'));
    }
  });
});
