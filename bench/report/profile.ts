/**
 * Summary of the V8 CPU profiles that `--profile` makes (`node --cpu-prof`): self time by
 * area (a package, a folder of dist/, a Node internal module), by calling area, and by
 * function, as % of the busy time (idle excluded).
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Names the code area of a profile frame: a package, a dist/ folder, or a Node module. */
function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName || '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  const dist = /\/dist\/([^/]+)(\/|\.js)/.exec(url);
  if (dist) return `proxy-hopper ${dist[1]}`;
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? parts.slice(1, 2).join('/') || 'internal' : parts[0]}`;
  }
  return path.basename(url);
}

function isOwnerFrame(url: string): boolean {
  return url.includes('/node_modules/') || url.includes('/dist/') || url.includes('/bench/');
}

/**
 * Maps each node id to the closest frame, itself or an ancestor, that belongs to Proxy Hopper
 * (dist/) or to a package. Time spent in Node internals and native code such as socket writes
 * is then charged to the code that called them.
 */
function ownerAreas(profile: CpuProfile): Map<number, string> {
  const parents = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) parents.set(child, node);
  }
  const owners = new Map<number, string>();
  for (const node of profile.nodes) {
    let current: ProfileNode | undefined = node;
    while (current !== undefined && !isOwnerFrame(current.callFrame.url)) {
      current = parents.get(current.id);
    }
    owners.set(
      node.id,
      current === undefined
        ? '(Node internals, no caller in dist/ or a package)'
        : areaOf(current.callFrame),
    );
  }
  return owners;
}

function frameName(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  const file = frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^file:\/\//, '');
  return `${name} ${file}:${frame.lineNumber + 1}`;
}

function topEntries(totals: Map<string, number>, busyMs: number, count: number): string[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => `  ${((ms / busyMs) * 100).toFixed(1).padStart(5)}%  ${name}`);
}

/** Returns the summary of one .cpuprofile file as text. */
export function summarizeProfile(file: string): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const sampleMs =
    (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
  const byArea = new Map<string, number>();
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const owners = ownerAreas(profile);
  let busyMs = 0;
  for (const node of profile.nodes) {
    const ms = (node.hitCount ?? 0) * sampleMs;
    if (ms === 0 || node.callFrame.functionName === '(idle)') continue;
    busyMs += ms;
    const area = areaOf(node.callFrame);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const owner = owners.get(node.id) ?? area;
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
    const name = frameName(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  return [
    `${path.basename(file)}: ${(busyMs / 1000).toFixed(1)} s busy`,
    ' self time by area:',
    ...topEntries(byArea, busyMs, 12),
    ' time by calling area (Node internals and native code charged to their caller):',
    ...topEntries(byOwner, busyMs, 12),
    ' self time by function:',
    ...topEntries(byFunction, busyMs, 15),
  ].join('\n');
}

/** Returns the summaries of every .cpuprofile in `dir`. */
export function summarizeProfiles(dir: string): string {
  const files = fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort();
  if (files.length === 0) return `no .cpuprofile files in ${dir}`;
  return files.map((name) => summarizeProfile(path.join(dir, name))).join('\n\n');
}
