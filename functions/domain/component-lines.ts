/**
 * The lines configuration/container/run-profile.sh prints on stdout, one per step of a run
 * (configuration/README.md, "Running a profile"):
 *
 *   COMPONENT <component> START all   [cluster=<id> attempt=<n>]
 *   COMPONENT <component> OK all      [cluster=<id> attempt=<n>]
 *   COMPONENT <component> FAILED <node | ->  [cluster=<id> attempt=<n>]
 *
 * The trailing fields are printed when the runner gave the script CLUSTER_ID (the container
 * runner does): the container's lines land in a log group every task shares, so each line has to
 * say whose run it belongs to. Whoever reads the lines (the ssm runner's failure report, the
 * configuration-progress function, the local stand-in for the ECS task) goes through here.
 */

export const COMPONENT_MARKER = 'COMPONENT';
const COMPONENT_STATES = ['START', 'OK', 'FAILED'] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];

export interface ComponentLine {
  component: string;
  state: ComponentState;
  /** `all` for START and OK; for FAILED the node to blame, or null when none is (`-`). */
  node: string | null;
  /** Whose run printed it: present when the runner passed CLUSTER_ID and CLUSTER_ATTEMPT. */
  clusterId?: string;
  attempt?: number;
}

/**
 * The fields of a line, as a CloudWatch Logs space-delimited filter pattern names them: the first
 * must be the marker, and the line has at least the four fields every line has.
 */
export const COMPONENT_LINE_FIELDS = ['marker', 'component', 'state', 'node', '...'] as const;

const LINE = /^COMPONENT (\S+) (START|OK|FAILED) (\S+)((?: [a-z]+=\S+)*)\s*$/;
const CLUSTER_ID = /^[A-Za-z0-9-]{1,64}$/;
const ATTEMPT = /^[1-9]\d{0,5}$/;

/** One line, or null when it is not a well-formed COMPONENT line (any other output, or a garbled one). */
export const parseComponentLine = (text: string): ComponentLine | null => {
  const match = LINE.exec(text);
  if (!match) return null;
  const [, component = '', state = '', node = '', rest = ''] = match;
  const fields = new Map(
    rest
      .trim()
      .split(' ')
      .filter(Boolean)
      .map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)] as const),
  );
  const clusterId = fields.get('cluster');
  const attempt = fields.get('attempt');
  // Both or neither: half an identity names no run.
  const identified = clusterId !== undefined && attempt !== undefined && CLUSTER_ID.test(clusterId) && ATTEMPT.test(attempt);
  if ((clusterId !== undefined || attempt !== undefined) && !identified) return null;
  return {
    component,
    state: state as ComponentState,
    node: node === '-' ? null : node,
    ...(identified ? { clusterId, attempt: Number(attempt) } : {}),
  };
};

/** The line run-profile.sh prints for `line` (the local stand-in for the ECS task prints the same). */
export const formatComponentLine = (line: ComponentLine): string => {
  const identity = line.clusterId !== undefined ? ` cluster=${line.clusterId} attempt=${line.attempt ?? 1}` : '';
  return `${COMPONENT_MARKER} ${line.component} ${line.state} ${line.node ?? '-'}${identity}`;
};

/** The COMPONENT lines of a run's output, in order; every other line is skipped. */
export const componentLines = (output: string): ComponentLine[] =>
  output.split(/\r?\n/).flatMap((text) => {
    const line = parseComponentLine(text);
    return line ? [line] : [];
  });
