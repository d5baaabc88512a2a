/**
 * Turns a V8 CPU profile into "where does the time go": self time per component (a package,
 * a node core module, a project file) and the hottest functions. Built-in functions (JSON.parse,
 * RegExp exec, …) have no script of their own, so their time is charged to the nearest caller
 * that has one: JSON.parse called by dynalite is dynalite's cost.
 */
import path from 'node:path';
import type { ProfileFunction, ProfileGroup, ProfileSummary } from './protocol.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** Maps a generated position (0-based) to the source line (1-based), where a source map says. */
export type SourceLine = (url: string, line: number, column: number) => number | null;

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

const ROOT = path.resolve(import.meta.dirname, '..');
const PROFILER = 'profiler (excluded)';

/** The DynamoDB emulator and the storage layers under it are one component here. */
const DYNALITE_PARTS = /^(dynalite|async|big\.js|buffer-crc32|lazy|lock|once|level|memory-level|abstract-level|level-.*|module-error|functional-red-black-tree|maybe-combine-errors)$/;

const PSEUDO_FRAMES = new Map([
  ['(garbage collector)', 'garbage collection'],
  ['(program)', 'V8 / native (unattributed)'],
  ['(idle)', 'idle'],
  ['(root)', 'V8 / native (unattributed)'],
]);

const packageOf = (url: string): string | null => {
  const index = url.lastIndexOf('/node_modules/');
  if (index < 0) return null;
  const [first = '', second = ''] = url.slice(index + '/node_modules/'.length).split('/');
  return first.startsWith('@') ? `${first}/${second}` : first;
};

/** The component a script belongs to; null for built-ins, which are charged to their caller. */
const componentOf = (url: string): string | null => {
  if (!url) return null;
  if (url.startsWith('node:')) {
    const module = url.slice('node:'.length).replace(/^internal\//, '').split('/')[0] ?? '';
    if (module === 'inspector') return PROFILER;
    return `node core: ${module.replace(/^_/, '').split('_')[0]}`;
  }
  const pkg = packageOf(url);
  if (pkg) {
    if (/^@(aws-sdk|smithy|aws-crypto)\//.test(pkg)) return 'AWS SDK v3 + smithy (DynamoDB client)';
    if (DYNALITE_PARTS.test(pkg)) return 'dynalite (DynamoDB emulator)';
    if (/^@middy\//.test(pkg)) return 'middy';
    if (/^@aws-lambda-powertools\//.test(pkg)) return 'powertools logger';
    if (pkg === 'aws-local-stepfunctions' || pkg === 'jsonpath-plus' || pkg === 'p-limit') return 'aws-local-stepfunctions';
    if (pkg === 'tsx' || pkg === 'esbuild' || pkg === 'get-tsconfig') return 'tsx loader';
    return pkg;
  }
  const file = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.relative(ROOT, file) || file;
};

export const summarizeProfile = (profile: CpuProfile, options: { top?: number; sourceLine?: SourceLine } = {}): ProfileSummary => {
  const top = options.top ?? 15;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Each node's component, found once: built-ins climb to the first caller with a script.
  const componentCache = new Map<number, string>();
  const componentFor = (id: number): string => {
    const cached = componentCache.get(id);
    if (cached) return cached;
    const node = byId.get(id);
    let result = 'V8 / native (unattributed)';
    if (node) {
      const pseudo = PSEUDO_FRAMES.get(node.callFrame.functionName);
      const own = componentOf(node.callFrame.url);
      const up = parent.get(id);
      result = pseudo && !node.callFrame.url ? pseudo : own ?? (up === undefined ? result : componentFor(up));
    }
    componentCache.set(id, result);
    return result;
  };

  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, deltas[i] ?? 0)));

  const groups = new Map<string, number>();
  const functions = new Map<string, { function: string; location: string; us: number }>();
  for (const [id, us] of selfUs) {
    const group = componentFor(id);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const node = byId.get(id);
    if (!node || PSEUDO_FRAMES.has(node.callFrame.functionName) || group === PROFILER) continue;
    const frame = node.callFrame;
    // Transpiled project files are located through their source maps; packages by their own lines.
    const line = frame.url ? (options.sourceLine?.(frame.url, frame.lineNumber, frame.columnNumber) ?? frame.lineNumber + 1) : null;
    const location = frame.url ? `${componentOf(frame.url) ?? ''}:${line}` : `(built-in, in ${group})`;
    const key = `${frame.functionName}@${location}`;
    const entry = functions.get(key) ?? { function: frame.functionName || '(anonymous)', location, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }

  // The profiler's own work (starting, stopping, serializing the profile) is not the service's.
  const idleUs = groups.get('idle') ?? 0;
  const profilerUs = groups.get(PROFILER) ?? 0;
  const totalUs = [...groups.values()].reduce((sum, us) => sum + us, 0);
  const busyUs = Math.max(1, totalUs - idleUs - profilerUs);
  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => Math.round((us / busyUs) * 1000) / 1000;
  const groupRows: ProfileGroup[] = [...groups.entries()]
    .filter(([group]) => group !== 'idle' && group !== PROFILER)
    .sort((a, b) => b[1] - a[1])
    .map(([group, us]) => ({ group, selfMs: ms(us), share: share(us) }));
  const functionRows: ProfileFunction[] = [...functions.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((entry) => ({ function: entry.function, location: entry.location, selfMs: ms(entry.us), share: share(entry.us) }));
  return { totalMs: ms(totalUs), busyMs: ms(busyUs), idleMs: ms(idleUs), profilerMs: ms(profilerUs), groups: groupRows, functions: functionRows };
};
