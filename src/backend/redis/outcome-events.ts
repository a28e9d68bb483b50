/**
 * The events of one applied release, published by the instance whose script made the change,
 * so metrics count each change once across instances. Labels come from the local spec.
 */
import type { EventBus, EventMap } from '../../observe/events.js';
import type { ReleaseOptions, TargetPoolSpec } from '../types.js';
import type { ReleaseReply } from './script-results.js';

export function ipLabels(spec: TargetPoolSpec, address: string): EventMap['ip_success'] {
  const ip = spec.ips.find((entry) => entry.address === address);
  return { target: spec.target, address, provider: ip?.provider ?? '', region: ip?.region ?? '' };
}

export function emitReleaseEvents(
  events: EventBus | undefined,
  spec: TargetPoolSpec,
  address: string,
  result: ReleaseOptions['result'],
  reply: ReleaseReply,
): void {
  if (!events || result === 'neutral') return;
  const labels = ipLabels(spec, address);
  if (result === 'success') {
    events.emit('ip_success', labels);
    return;
  }

  const failures = reply.failures;
  events.emit('ip_failure', { ...labels, failures });
  if (reply.quarantined && reply.quarantineMs !== undefined) {
    events.emit('quarantine', { ...labels, failures, quarantineMs: reply.quarantineMs });
  }
  if (reply.floorHeld) {
    const activeIps = reply.floorActiveIps ?? reply.activeIps;
    const minActiveIps = reply.minActiveIps ?? spec.minActiveIps;
    events.emit('quarantine_floor', { ...labels, failures, activeIps, minActiveIps });
  }
}
