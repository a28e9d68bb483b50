export { ERROR_CODES, type ErrorCode } from './codes.js';
export {
  ProxyHopperError,
  isProxyHopperError,
  type ProxyHopperErrorOptions,
} from './proxy-hopper-error.js';
export { ConfigError, type ConfigIssue } from './config-error.js';
