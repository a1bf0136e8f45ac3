export * from './module.ts';
export * from './runtime.ts';
