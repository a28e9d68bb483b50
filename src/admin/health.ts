/**
 * The health response shared by the admin server's `/health` and the proxy port's `/health`:
 * 200 `{"status":"ok"}` while the backend can serve, else 503 naming what is failing.
 */
import type { Backend } from '../backend/types.js';

export type HealthBody =
  { status: 'ok' } | { status: 'unavailable'; failing: string[]; backend: Backend['kind'] };

export interface HealthReport {
  statusCode: 200 | 503;
  body: HealthBody;
}

export function healthReport(backend: Pick<Backend, 'kind' | 'isReady'>): HealthReport {
  if (backend.isReady()) return { statusCode: 200, body: { status: 'ok' } };
  return {
    statusCode: 503,
    body: { status: 'unavailable', failing: ['backend'], backend: backend.kind },
  };
}
