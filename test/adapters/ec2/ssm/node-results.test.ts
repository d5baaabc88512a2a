import { describe, expect, it } from 'vitest';
import { failureReport, LAMBDA_COMPONENTS } from '#adapters/ec2/ssm/index';

describe('failureReport (what a failed node’s output says)', () => {
  it('reads the COMPONENT lines with the cluster and attempt the container adds', () => {
    const output = 'COMPONENT common START all cluster=c-1 attempt=2\nCOMPONENT common FAILED lambda-slave-3 cluster=c-1 attempt=2\n';

    expect(failureReport(output, LAMBDA_COMPONENTS)).toEqual({ component: 'common', node: 'lambda-slave-3' });
  });

  it('finds the last component a node output names, ignoring names that are not components of the profile', () => {
    // Act
    const found = failureReport('TASK [common : a]\n==> component kafka\nTASK [debug : b]\n', LAMBDA_COMPONENTS);

    // Assess
    expect(found).toEqual({ component: 'kafka' });
  });
});
