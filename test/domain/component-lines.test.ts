import { describe, expect, it } from 'vitest';
import { componentLines, formatComponentLine, parseComponentLine } from '#domain/component-lines';

const ID = '35380a49-aae4-4935-9844-dfd6737b8c51';

describe('the COMPONENT lines of run-profile.sh (#domain/component-lines)', () => {
  it('reads the plain lines an SSM command prints', () => {
    expect(parseComponentLine('COMPONENT hdfs START all')).toEqual({ component: 'hdfs', state: 'START', node: 'all' });
    expect(parseComponentLine('COMPONENT hdfs FAILED my-slave-2')).toEqual({ component: 'hdfs', state: 'FAILED', node: 'my-slave-2' });
    expect(parseComponentLine('COMPONENT hdfs FAILED -')).toEqual({ component: 'hdfs', state: 'FAILED', node: null });
  });

  it('reads the cluster and attempt the container’s lines end with', () => {
    expect(parseComponentLine(`COMPONENT kafka FAILED my-slave-2 cluster=${ID} attempt=12`)).toEqual({
      component: 'kafka',
      state: 'FAILED',
      node: 'my-slave-2',
      clusterId: ID,
      attempt: 12,
    });
  });

  it.each([
    ['another state', 'COMPONENT hdfs RUNNING all'],
    ['a missing node', 'COMPONENT hdfs START'],
    ['a prefix', '  COMPONENT hdfs START all'],
    ['a trailing word that is no field', 'COMPONENT hdfs FAILED node-1 and more'],
    ['a cluster without an attempt', `COMPONENT hdfs START all cluster=${ID}`],
    ['an attempt that is no number', `COMPONENT hdfs START all cluster=${ID} attempt=two`],
    ['a cluster id with other characters', 'COMPONENT hdfs START all cluster=a/b attempt=1'],
    ['Ansible output', 'fatal: [my-slave-2]: UNREACHABLE! => {"changed": false}'],
  ])('refuses %s', (_what, line) => {
    expect(parseComponentLine(line)).toBeNull();
  });

  it('prints what it reads, with and without the identity', () => {
    const lines = [
      { component: 'common', state: 'START' as const, node: 'all', clusterId: ID, attempt: 2 },
      { component: 'common', state: 'FAILED' as const, node: null },
    ];

    expect(lines.map(formatComponentLine)).toEqual([`COMPONENT common START all cluster=${ID} attempt=2`, 'COMPONENT common FAILED -']);
    expect(lines.map((line) => parseComponentLine(formatComponentLine(line)))).toEqual(lines);
  });

  it('picks the COMPONENT lines out of mixed output, in order', () => {
    const output = 'PLAY [common]\nCOMPONENT common START all\r\nTASK [common : x]\nCOMPONENT common OK all\n';

    expect(componentLines(output).map((line) => `${line.component}/${line.state}`)).toEqual(['common/START', 'common/OK']);
  });
});
