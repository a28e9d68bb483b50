export { startProxyHopper, type RunningProxyHopper, type StartOptions } from './start.js';
