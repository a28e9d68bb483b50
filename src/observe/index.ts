/** Public surface of the observe component: logger, metrics, request log and prober. */
export { createLogger, formatLocalTimestamp, toPinoLevel, ROOT_LOGGER_NAME } from './logger.js';
export type { LoggerSettings } from './logger.js';
export { redactUrl, buildRedactPaths, SECRET_FIELD_NAMES, REDACTED } from './redact.js';
export { createRepeatLimiter, type RepeatLimiter } from './repeat-limiter.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { startMetricsServer, writeMetrics, type RunningServer } from './metrics-server.js';
export { subscribeRequestLog, type RequestLogOptions } from './request-log.js';
export { createProber, type Prober, type ProberOptions } from './prober.js';
export { ProbeHealth } from './probe-health.js';
export { EventBus, type EventMap, type EventName } from './events.js';
