import { describe, expect, it } from 'vitest';
import { openStackSettingsFromEnv } from '#adapters/openstack/index';
import type { CloudsYamlFiles } from '#adapters/openstack/clouds-yaml';
import { ConfigError } from '#lib/config';

const PASSWORD_ENV = {
  OS_AUTH_URL: 'https://keystone.example.org:5000',
  OS_USERNAME: 'demo',
  OS_PASSWORD: 'secret',
  OS_PROJECT_NAME: 'demo',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_REGION_NAME: 'RegionOne',
  OPENSTACK_IMAGE: 'debian-12',
};

/** A file system holding `files`, with a home and a working directory. */
const filesOf = (files: Record<string, string>): CloudsYamlFiles => ({
  exists: (file) => file in files,
  read: (file) => files[file] ?? '',
  cwd: () => '/srv/app',
  home: () => '/home/svc',
});

const CLOUDS_YAML = `
clouds:
  devstack:
    auth:
      auth_url: http://10.0.0.5/identity
      username: admin
      password: s3cret
      project_id: 1234
      user_domain_id: default
    region_name: RegionTwo
    interface: internal
  appcred:
    auth_type: v3applicationcredential
    auth:
      auth_url: https://cloud.example.org:5000/v3/
      application_credential_id: 21a5f8
      application_credential_secret: shh
    region_name: RegionOne
`;

const problemsOf = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('openstack settings from the environment', () => {
  it('reads a password login with user and project by name in their domains, and a v3 auth URL', () => {
    // Act
    const settings = openStackSettingsFromEnv({ ...PASSWORD_ENV, OPENSTACK_EXTERNAL_NETWORK: 'public', OPENSTACK_KEY_NAME: 'ops' });

    // Assess
    expect(settings).toEqual({
      authUrl: 'https://keystone.example.org:5000/v3',
      auth: {
        type: 'password',
        user: { name: 'demo', domain: { name: 'Default' } },
        password: 'secret',
        project: { name: 'demo', domain: { name: 'Default' } },
      },
      region: 'RegionOne',
      interface: 'public',
      image: 'debian-12',
      externalNetwork: 'public',
      keyName: 'ops',
      loginUser: 'debian',
    });
  });

  it('takes the project by id and, without domains, the default domain as the OpenStack client does', () => {
    // Act
    const settings = openStackSettingsFromEnv({
      OS_AUTH_URL: 'http://keystone:5000/v3/',
      OS_USERNAME: 'demo',
      OS_PASSWORD: 'secret',
      OS_PROJECT_ID: 'p-1',
      OS_INTERFACE: 'internalURL',
      OPENSTACK_IMAGE: 'img',
    });

    // Assess
    expect(settings.authUrl).toBe('http://keystone:5000/v3');
    expect(settings.auth).toEqual({ type: 'password', user: { name: 'demo', domain: { id: 'default' } }, password: 'secret', project: { id: 'p-1' } });
    expect(settings.interface).toBe('internal');
  });

  it('reads an application credential, which needs no user or project', () => {
    // Act
    const settings = openStackSettingsFromEnv({
      OS_AUTH_URL: 'https://keystone:5000',
      OS_APPLICATION_CREDENTIAL_ID: 'cred-1',
      OS_APPLICATION_CREDENTIAL_SECRET: 'shh',
      OPENSTACK_IMAGE: 'img',
    });

    // Assess
    expect(settings.auth).toEqual({ type: 'application_credential', credential: { id: 'cred-1' }, secret: 'shh' });
  });

  it('names every missing variable at once', () => {
    // Act
    const message = problemsOf(() => openStackSettingsFromEnv({ OS_USERNAME: 'demo' }));

    // Assess
    expect(message).toContain('OS_AUTH_URL (or OS_CLOUD): is required');
    expect(message).toContain('OS_PASSWORD: is required');
    expect(message).toContain('OS_PROJECT_NAME: is required (or OS_PROJECT_ID)');
    expect(message).toContain('OPENSTACK_IMAGE: is required');
  });

  it.each([
    [{ OS_AUTH_URL: 'keystone:5000' }, 'OS_AUTH_URL: must be an http(s) URL'],
    [{ OS_INTERFACE: 'private' }, 'OS_INTERFACE: must be public, internal or admin'],
    [{ OS_AUTH_TYPE: 'token' }, 'OS_AUTH_TYPE: token is not supported'],
    [{ OS_APPLICATION_CREDENTIAL_ID: 'cred-1' }, 'OS_APPLICATION_CREDENTIAL_SECRET: is required with an application credential'],
    [{ OPENSTACK_LOGIN_USER: 'root; reboot' }, 'OPENSTACK_LOGIN_USER: must be a user name'],
  ])('refuses %o naming the variable', (change, expected) => {
    // Act
    const message = problemsOf(() => openStackSettingsFromEnv({ ...PASSWORD_ENV, ...change }));

    // Assess
    expect(message).toContain(expected);
  });
});

describe('openstack settings from clouds.yaml', () => {
  it('reads the cloud OS_CLOUD names from OS_CLIENT_CONFIG_FILE, its region and interface, and ignores the OS_* login variables', () => {
    // Act
    const settings = openStackSettingsFromEnv(
      { OS_CLOUD: 'devstack', OS_CLIENT_CONFIG_FILE: '/etc/cs/clouds.yaml', OS_USERNAME: 'ignored', OPENSTACK_IMAGE: 'img' },
      { files: filesOf({ '/etc/cs/clouds.yaml': CLOUDS_YAML }) },
    );

    // Assess
    expect(settings).toEqual({
      authUrl: 'http://10.0.0.5/identity/v3',
      auth: { type: 'password', user: { name: 'admin', domain: { id: 'default' } }, password: 's3cret', project: { id: '1234' } },
      region: 'RegionTwo',
      interface: 'internal',
      loginUser: 'debian',
      image: 'img',
    });
  });

  it('reads auth_type v3applicationcredential', () => {
    // Act
    const settings = openStackSettingsFromEnv({ OS_CLOUD: 'appcred', OS_CLIENT_CONFIG_FILE: '/c.yaml', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/c.yaml': CLOUDS_YAML }) });

    // Assess
    expect(settings.authUrl).toBe('https://cloud.example.org:5000/v3');
    expect(settings.auth).toEqual({ type: 'application_credential', credential: { id: '21a5f8' }, secret: 'shh' });
    expect(settings.region).toBe('RegionOne');
  });

  it('looks in ./clouds.yaml before ~/.config/openstack and /etc/openstack', () => {
    // Prepare
    const other = CLOUDS_YAML.replace('RegionTwo', 'Elsewhere');
    const files = filesOf({ '/home/svc/.config/openstack/clouds.yaml': other, '/etc/openstack/clouds.yaml': other, '/srv/app/clouds.yaml': CLOUDS_YAML });

    // Act
    const settings = openStackSettingsFromEnv({ OS_CLOUD: 'devstack', OPENSTACK_IMAGE: 'img' }, { files });

    // Assess
    expect(settings.region).toBe('RegionTwo');
  });

  it('falls back to ~/.config/openstack/clouds.yaml, then /etc/openstack/clouds.yaml', () => {
    // Act
    const fromHome = openStackSettingsFromEnv({ OS_CLOUD: 'devstack', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/home/svc/.config/openstack/clouds.yaml': CLOUDS_YAML }) });
    const fromEtc = openStackSettingsFromEnv({ OS_CLOUD: 'devstack', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/etc/openstack/clouds.yaml': CLOUDS_YAML }) });

    // Assess
    expect(fromHome.region).toBe('RegionTwo');
    expect(fromEtc.region).toBe('RegionTwo');
  });

  it('names the cloud and the file when OS_CLOUD names a cloud the file lacks', () => {
    // Act
    const message = problemsOf(() => openStackSettingsFromEnv({ OS_CLOUD: 'prod', OS_CLIENT_CONFIG_FILE: '/c.yaml', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/c.yaml': CLOUDS_YAML }) }));

    // Assess
    expect(message).toContain("OS_CLOUD: no cloud 'prod' in /c.yaml (it has devstack, appcred)");
  });

  it('says where it looked when there is no clouds.yaml, and names OS_CLIENT_CONFIG_FILE when its file is missing', () => {
    // Act
    const nowhere = problemsOf(() => openStackSettingsFromEnv({ OS_CLOUD: 'devstack', OPENSTACK_IMAGE: 'img' }, { files: filesOf({}) }));
    const missing = problemsOf(() => openStackSettingsFromEnv({ OS_CLOUD: 'devstack', OS_CLIENT_CONFIG_FILE: '/nope.yaml', OPENSTACK_IMAGE: 'img' }, { files: filesOf({}) }));

    // Assess
    expect(nowhere).toContain('/srv/app/clouds.yaml, /home/svc/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml');
    expect(missing).toContain('OS_CLIENT_CONFIG_FILE: /nope.yaml does not exist');
  });

  it('names the clouds.yaml key at fault', () => {
    // Prepare
    const yaml = 'clouds:\n  broken:\n    auth:\n      username: admin\n    interface: private\n';

    // Act
    const message = problemsOf(() => openStackSettingsFromEnv({ OS_CLOUD: 'broken', OS_CLIENT_CONFIG_FILE: '/c.yaml', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/c.yaml': yaml }) }));

    // Assess
    expect(message).toContain('clouds.yaml (/c.yaml) clouds.broken.auth.auth_url: is required');
    expect(message).toContain('clouds.yaml (/c.yaml) clouds.broken.auth.password: is required');
    expect(message).toContain('clouds.yaml (/c.yaml) clouds.broken.interface: must be public, internal or admin');
  });

  it('refuses a clouds.yaml that is not YAML or has no clouds map', () => {
    // Act
    const notYaml = problemsOf(() => openStackSettingsFromEnv({ OS_CLOUD: 'x', OS_CLIENT_CONFIG_FILE: '/c.yaml', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/c.yaml': 'clouds: [unclosed' }) }));
    const noClouds = problemsOf(() => openStackSettingsFromEnv({ OS_CLOUD: 'x', OS_CLIENT_CONFIG_FILE: '/c.yaml', OPENSTACK_IMAGE: 'img' }, { files: filesOf({ '/c.yaml': 'other: 1' }) }));

    // Assess
    expect(notYaml).toContain('clouds.yaml (/c.yaml): not YAML');
    expect(noClouds).toContain("clouds.yaml (/c.yaml): has no 'clouds' map");
  });
});
