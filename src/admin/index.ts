/** Public surface of the admin component. */
export {
  startAdminServer,
  type AdminLoginRequest,
  type AdminLoginResponse,
  type AdminServer,
  type AdminServerOptions,
} from './server.js';
export { healthReport, type HealthBody, type HealthReport } from './health.js';
export {
  buildStatus,
  type StatusView,
  type TargetStatusView,
  type IpStatusView,
} from './status.js';
