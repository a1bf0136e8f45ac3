// Prometheus metrics. One registry per application instance (tests build many apps in one
// process; a global registry would mix their numbers and refuse duplicate metric names).
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  durationSeconds: Histogram<'method' | 'route' | 'status'>;
}

export function createHttpMetrics(options: { defaultMetrics?: boolean } = {}): HttpMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'croupier_' });
  return {
    registry,
    requests: new Counter({
      name: 'croupier_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    durationSeconds: new Histogram({
      name: 'croupier_http_request_duration_seconds',
      help: 'HTTP request latency, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
