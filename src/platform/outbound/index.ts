export { breakerDefaults, breakerLimits, CircuitBreaker, CircuitOpenError } from './breaker.ts';
export type {
  BreakerSnapshot,
  BreakerState,
  CircuitBreakerOptions,
  CircuitBreakerSettings,
} from './breaker.ts';
export {
  createOutboundMetrics,
  OutboundClient,
  outboundDefaults,
  outboundLimits,
  OutboundResponseError,
  OutboundTimeoutError,
} from './outbound.ts';
export type {
  FetchJsonOptions,
  JsonRequest,
  JsonResponse,
  OutboundCallOptions,
  OutboundClientOptions,
  OutboundMetrics,
  OutboundOutcome,
  OutboundSnapshot,
} from './outbound.ts';
