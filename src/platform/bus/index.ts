export * from './bus.ts';
export { createMemoryBus } from './memory.ts';
export type { MemoryBusOptions } from './memory.ts';
export { createJetStreamBus } from './jetstream.ts';
export type { JetStreamBusOptions } from './jetstream.ts';
export { HandlerTimeoutError } from './delivery.ts';
