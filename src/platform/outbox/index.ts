export {
  checkedSchema,
  eventsPerWriteMax,
  eventsStatement,
  outboxMigrationSet,
  writeEvents,
} from './outbox.ts';
export type { NewEvent } from './outbox.ts';
export { OutboxRelay } from './relay.ts';
export type { OutboxRelayOptions } from './relay.ts';
export { handleOnce, idempotentHandler } from './inbox.ts';
