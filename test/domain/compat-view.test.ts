import { describe, expect, it } from 'vitest';
import { compatStatus } from '#domain/compat-view';
import type { ClusterStatus, Phase } from '#domain/model';

describe('the seed service’s status names', () => {
  it.each<[ClusterStatus, Phase, string]>([
    ['PENDING', 'accepted', 'PENDING'],
    ['PROVISIONING', 'plan', 'PENDING'],
    ['PROVISIONING', 'wait-servers', 'PENDING'],
    ['PROVISIONING', 'allocate-ips', 'CLUSTER_CREATED'],
    ['CONFIGURING', 'configure:common', 'CLUSTER_CREATED'],
    ['CONFIGURING', 'configure:hdfs', 'INIT_DONE'],
    ['CONFIGURING', 'configure:yarn', 'COMMONS_INSTALLED'],
    ['CONFIGURING', 'configure:kafka', 'HADOOP_INSTALLED'],
    ['CONFIGURING', 'configure:flink', 'KAFKA_INSTALLED'],
    ['CONFIGURING', 'configure:script', 'CLUSTER_CREATED'],
    ['ACTIVE', 'ready', 'STARTED'],
    ['FAILED', 'failed', 'FAILED'],
    ['DESTROYING', 'destroy', 'DESTROYING'],
    ['DESTROYED', 'destroyed', 'DESTROYED'],
  ])('maps %s at %s to %s', (status, phase, expected) => {
    expect(compatStatus({ status, phase })).toBe(expected);
  });
});
