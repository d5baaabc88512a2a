/**
 * The profiles catalogue against what else names profiles and components: the Ansible playbooks
 * in configuration/ansible (read as YAML, so no Ansible is needed), the request schema and the
 * seed service's view.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { compatStatus } from '#domain/compat-view';
import { nativeCreateRequestSchema } from '#domain/native-request';
import { componentsOf, PROFILE_NAMES, PROFILES } from '#domain/profiles';
import { nativeBody } from '../support/http.ts';

const ANSIBLE = path.resolve(import.meta.dirname, '../../configuration/ansible');

interface Play {
  tags?: string[];
}

const plays = (profile: string): Play[] => parse(readFileSync(path.join(ANSIBLE, `${profile}.yml`), 'utf8')) as Play[];

/** The phases (`configure:<component>`) the workflow reports, which the playbooks must have. */
const profiles = new Map(Object.entries(PROFILES).map(([name, components]) => [name, [...components]]));

describe('the profiles catalogue against the playbooks', () => {
  it('has the lambda, none and script profiles', () => {
    expect([...profiles.keys()].sort()).toEqual(['lambda', 'none', 'script']);
  });

  it('has one profile per playbook, and one playbook per profile', () => {
    const playbooks = readdirSync(ANSIBLE).filter((file) => file.endsWith('.yml')).map((file) => path.basename(file, '.yml'));

    expect(playbooks.sort()).toEqual([...PROFILE_NAMES].sort());
  });

  it('has one lambda play per component, tagged common, hdfs, yarn, kafka, flink in that order', () => {
    const components = profiles.get('lambda');

    const tags = plays('lambda').map((play) => play.tags);

    expect(components).toEqual(['common', 'hdfs', 'yarn', 'kafka', 'flink']);
    expect(tags).toEqual(components?.map((component) => [component]));
  });

  it.each(['none', 'script'])('tags the %s playbook with the catalogue’s components for it', (profile) => {
    const tags = plays(profile).map((play) => play.tags);

    expect(tags).toEqual(profiles.get(profile)?.map((component) => [component]));
  });

  it.each(PROFILE_NAMES)('tags each play of %s.yml with exactly one component, in the catalogue’s order', (profile) => {
    const tags = plays(profile).map((play) => play.tags);

    expect(tags).toEqual(PROFILES[profile].map((component) => [component]));
  });
});

describe('the readers of the profiles catalogue', () => {
  it('offers exactly the catalogue’s profiles in a native create request', () => {
    const accepted = PROFILE_NAMES.filter((profile) => nativeCreateRequestSchema.safeParse(nativeBody(1, { configuration: { profile } })).success);
    const unknown = nativeCreateRequestSchema.safeParse(nativeBody(1, { configuration: { profile: 'ansible' } }));

    expect(accepted).toEqual(PROFILE_NAMES);
    expect(unknown.success).toBe(false);
  });

  it('gives each lambda component but the first a seed status of its own, in the profile’s order', () => {
    const statuses = PROFILES.lambda.map((component) => compatStatus({ status: 'CONFIGURING', phase: `configure:${component}` }));

    expect(statuses).toEqual(['CLUSTER_CREATED', 'INIT_DONE', 'COMMONS_INSTALLED', 'HADOOP_INSTALLED', 'KAFKA_INSTALLED']);
  });

  it('answers the components of a profile it has, and nothing for a name it has not, inherited ones included', () => {
    expect(componentsOf('script')).toEqual(['script']);
    expect(componentsOf('ansible')).toBeUndefined();
    expect(componentsOf('constructor')).toBeUndefined();
  });
});
