/** Request bodies and cluster records used across tests. */
import { randomUUID } from 'node:crypto';
import { compatToSpec, SEED_EXAMPLE, type CompatCreateRequest } from '#domain/compat-request';
import type { Cluster } from '#domain/model';

/** A fresh copy of the seed's curl example body (the README's quick start). */
export const seedRequest = (): CompatCreateRequest => ({ ...SEED_EXAMPLE });

/** A complete cluster record as the create use case writes it (PENDING, the seed's spec), with `overrides`. */
export const clusterRecord = (overrides: Partial<Cluster> = {}): Cluster => {
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    project: 'alpha',
    name: 'test',
    provider: 'local',
    status: 'PENDING',
    phase: 'accepted',
    spec: compatToSpec(seedRequest(), 'local'),
    request: { ...seedRequest() },
    servers: [],
    networks: [],
    configurationId: null,
    error: null,
    executionId: null,
    destroyExecutionId: null,
    deadlines: {},
    attempt: 1,
    quotaReserved: false,
    expiresAt: null,
    createdAt: at,
    updatedAt: at,
    version: 1,
    ...overrides,
  };
};

/** The phases a `lambda` profile passes through with the container runner, in order. */
export const CONTAINER_LAMBDA_PHASES = [
  'CONFIGURING/configure:container',
  'CONFIGURING/configure:common',
  'CONFIGURING/configure:hdfs',
  'CONFIGURING/configure:yarn',
  'CONFIGURING/configure:kafka',
  'CONFIGURING/configure:flink',
];
