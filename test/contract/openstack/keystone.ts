/**
 * Keystone v3 `POST /v3/auth/tokens`: password (user and project by name and domain, or by id) and
 * application credentials (by id, or by name with their user). 201 with `X-Subject-Token` and a
 * token carrying `expires_at` and the catalog.
 */
import { randomBytes } from 'node:crypto';
import type { Reply, RequestContext, Route } from './server.ts';
import { ADMIN_PROJECT_ID, PROJECT_ID } from './state.ts';

const DOMAIN = { id: 'default', name: 'Default' };
const USERS = [
  { id: 'e3f8a1c2d4b54c5e8f6a7b8c9d0e1f20', name: 'demo', password: 'demo', projectId: PROJECT_ID },
  { id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', name: 'admin', password: 'ospeer', projectId: ADMIN_PROJECT_ID },
];
const PROJECTS = [
  { id: PROJECT_ID, name: 'demo' },
  { id: ADMIN_PROJECT_ID, name: 'admin' },
];
/** An application credential of the demo user, scoped to its project. */
export const APPLICATION_CREDENTIAL = { id: '7a1c2e3f4a5b4c6d8e9f0a1b2c3d4e5f', name: 'ci', secret: 'app-secret', userId: USERS[0]?.id ?? '' };

const error = (code: number, title: string, message: string): Reply => ({ status: code, body: { error: { code, message, title } } });

/** 401, with the `WWW-Authenticate` that names where to log in (Keystone's own answer, or keystonemiddleware's in front of a service). */
export const unauthorized = (keystoneUri: string): Reply => ({
  ...error(401, 'Unauthorized', 'The request you have made requires authentication.'),
  headers: { 'WWW-Authenticate': `Keystone uri="${keystoneUri}"` },
});

const isRecord = (value: unknown): value is Record<string, any> => typeof value === 'object' && value !== null && !Array.isArray(value);

const domainMatches = (domain: unknown): boolean => isRecord(domain) && (domain.id === DOMAIN.id || domain.name === DOMAIN.name);

const findUser = (user: unknown) => {
  if (!isRecord(user)) return undefined;
  if (typeof user.id === 'string') return USERS.find((candidate) => candidate.id === user.id);
  return domainMatches(user.domain) ? USERS.find((candidate) => candidate.name === user.name) : undefined;
};

const findProject = (project: unknown) => {
  if (!isRecord(project)) return undefined;
  if (typeof project.id === 'string') return PROJECTS.find((candidate) => candidate.id === project.id);
  return domainMatches(project.domain) ? PROJECTS.find((candidate) => candidate.name === project.name) : undefined;
};

/** The catalog: every service in RegionOne (public and internal), Nova also in RegionTwo. */
const catalog = (base: string, withCinder: boolean) => {
  const entry = (type: string, name: string, path: string) => ({
    id: randomBytes(16).toString('hex'),
    type,
    name,
    endpoints: [
      ...['public', 'internal'].map((iface) => ({ id: randomBytes(16).toString('hex'), interface: iface, region: 'RegionOne', region_id: 'RegionOne', url: `${base}${path}` })),
      ...(type === 'compute' ? [{ id: randomBytes(16).toString('hex'), interface: 'public', region: 'RegionTwo', region_id: 'RegionTwo', url: `${base}/regiontwo${path}` }] : []),
    ],
  });
  return [
    entry('identity', 'keystone', '/identity/v3'),
    entry('compute', 'nova', '/compute/v2.1'),
    entry('network', 'neutron', '/network'),
    entry('image', 'glance', '/image'),
    ...(withCinder ? [entry('block-storage', 'cinder', `/volume/v3/${PROJECT_ID}`), entry('volumev3', 'cinderv3', `/volume/v3/${PROJECT_ID}`)] : []),
  ];
};

const issue = (context: RequestContext): Reply => {
  const auth = isRecord(context.body) && isRecord(context.body.auth) ? context.body.auth : undefined;
  const identity = auth && isRecord(auth.identity) ? auth.identity : undefined;
  const methods: unknown = identity?.methods;
  if (!auth || !identity || !Array.isArray(methods) || methods.length === 0) return error(400, 'Bad Request', "Invalid input for field 'identity': 'methods' is a required property");
  let user: (typeof USERS)[number] | undefined;
  let project: (typeof PROJECTS)[number] | undefined;
  if (methods.includes('application_credential')) {
    const credential = identity.application_credential;
    if (auth.scope !== undefined) {
      return { status: 401, body: { error: { code: 401, identity: {}, message: 'Error authenticating with application credential: Application credentials cannot request a scope.', title: 'Unauthorized' } } };
    }
    const byId = isRecord(credential) && credential.id === APPLICATION_CREDENTIAL.id;
    const byName = isRecord(credential) && credential.name === APPLICATION_CREDENTIAL.name && findUser(credential.user)?.id === APPLICATION_CREDENTIAL.userId;
    if (!(byId || byName) || credential.secret !== APPLICATION_CREDENTIAL.secret) return unauthorized(`${context.cloud.url}/identity/v3`);
    user = USERS.find((candidate) => candidate.id === APPLICATION_CREDENTIAL.userId);
    project = PROJECTS.find((candidate) => candidate.id === user?.projectId);
  } else if (methods.includes('password')) {
    const password = isRecord(identity.password) ? identity.password.user : undefined;
    user = findUser(password);
    if (!user || !isRecord(password) || password.password !== user.password) return unauthorized(`${context.cloud.url}/identity/v3`);
    if (isRecord(auth.scope)) {
      project = findProject(auth.scope.project);
      if (!project || project.id !== user.projectId) return unauthorized(`${context.cloud.url}/identity/v3`);
    }
  } else {
    return error(401, 'Unauthorized', `Attempted to authenticate with an unsupported method.`);
  }
  const value = `gAAAAA${randomBytes(24).toString('base64url')}`;
  const now = context.state.clock.now();
  const expiresAt = now + context.state.options.tokenTtlMs;
  context.state.tokens.set(value, expiresAt);
  context.state.tokenProjects.set(value, project?.id ?? user?.projectId ?? '');
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
  return {
    status: 201,
    headers: { 'X-Subject-Token': value },
    body: {
      token: {
        methods,
        user: { id: user?.id, name: user?.name, domain: DOMAIN, password_expires_at: null },
        audit_ids: [randomBytes(8).toString('base64url')],
        expires_at: iso(expiresAt),
        issued_at: iso(now),
        ...(project
          ? {
              project: { id: project.id, name: project.name, domain: DOMAIN },
              is_domain: false,
              roles: [{ id: randomBytes(16).toString('hex'), name: 'member' }],
              catalog: catalog(context.cloud.url, context.state.options.withCinder),
            }
          : {}),
      },
    },
  };
};

export const keystoneRoutes: Route[] = [
  { method: 'POST', path: /^\/auth\/tokens$/, handle: issue },
  {
    method: 'GET',
    path: /^\/?$/,
    handle: (context) => ({ status: 200, body: { version: { id: 'v3.14', status: 'stable', links: [{ rel: 'self', href: `${context.cloud.url}/identity/v3/` }] } } }),
  },
];
