// Proves the NATS JetStream bus keeps the bus contract (needs NATS_URL; skipped without it).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { natsUrl } from '../../../../test/support/backend.ts';
import { createJetStreamBus } from '../jetstream.ts';
import { busContract } from './bus.contract.ts';

const createdStreams: string[] = [];

async function deleteStreams(servers: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for (const name of createdStreams) await jsm.streams.delete(name).catch(() => false);
  } finally {
    await nc.close();
  }
}

if (natsUrl === undefined) {
  describe('bus contract: jetstream', { skip: 'NATS_URL not set' }, () => {});
} else {
  const servers = natsUrl;
  after(() => deleteStreams(servers));

  busContract('jetstream', (streams) => {
    createdStreams.push(...streams.map((stream) => stream.name));
    return createJetStreamBus({ servers, streams, publishTimeoutMs: 3_000, name: 'croupier-bus-test' });
  });

  describe('jetstream bus: streams', () => {
    it('creates file-backed streams that keep 7 days, and a later start updates their settings', async () => {
      const name = `CFG_${randomBytes(5).toString('hex').toUpperCase()}`;
      createdStreams.push(name);
      const bus = await createJetStreamBus({
        servers,
        streams: [{ name, subjects: [`${name.toLowerCase()}.>`] }],
        duplicateWindowMs: 30_000,
      });
      // Starting again with the same streams must succeed (every process of a deployment does it).
      const again = await createJetStreamBus({
        servers,
        streams: [{ name, subjects: [`${name.toLowerCase()}.>`] }],
      });
      const nc = await connect({ servers });
      try {
        const info = await (await jetstreamManager(nc)).streams.info(name);
        assert.equal(info.config.storage, StorageType.File);
        assert.equal(info.config.retention, RetentionPolicy.Limits);
        assert.equal(info.config.max_age, 7 * 24 * 3600 * 1e9);
        assert.equal(
          info.config.duplicate_window,
          120 * 1e9,
          'the second start updated the window to its default',
        );
        await bus.ping();
      } finally {
        await nc.close();
        await bus.close();
        await again.close();
      }
    });
  });
}
