/**
 * The contract OpenStack answers as a real one (Zed: Nova, Neutron, Keystone, Glance) answered the
 * same requests: statuses, bodies, headers and states that the adapter's tests rely on. Each case
 * is an exchange observed on a real cloud, asked of the contract over plain HTTP.
 */
import { describe, expect, it } from 'vitest';
import { APPLICATION_CREDENTIAL } from '../../contract/openstack/keystone.ts';
import type { ContractCloud } from '../../contract/openstack/server.ts';
import { contractCloud } from './support.ts';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** Plain HTTP to the contract as the demo user (or admin): `nova`, `neutron`, `glance` take a path under the service's root. */
const client = async (cloud: ContractCloud, as: { user: string; password: string } = { user: 'demo', password: 'demo' }) => {
  const login = await fetch(`${cloud.url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: as.user, domain: { id: 'default' }, password: as.password } } },
        scope: { project: { name: as.user, domain: { id: 'default' } } },
      },
    }),
  });
  const token = login.headers.get('x-subject-token') ?? '';
  const call = async (url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const response = await fetch(url, {
      method,
      headers: { 'X-Auth-Token': token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Kept as text.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
  return {
    nova: (method: string, path: string, body?: unknown, version = '2.52') =>
      call(`${cloud.url}/compute/v2.1${path}`, method, body, version ? { 'OpenStack-API-Version': `compute ${version}` } : {}),
    neutron: (method: string, path: string, body?: unknown) => call(`${cloud.url}/network/v2.0${path}`, method, body),
    glance: (method: string, path: string) => call(`${cloud.url}/image/v2${path}`, method),
  };
};

const IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b';

/** A network with a /24 subnet, as the demo user makes them. */
const network = async (api: Awaited<ReturnType<typeof client>>, cidr = '10.98.0.0/24') => {
  const net = (await api.neutron('POST', '/networks', { network: { name: 'n' } })).body.network;
  const subnet = (await api.neutron('POST', '/subnets', { subnet: { network_id: net.id, cidr, ip_version: 4 } })).body.subnet;
  return { net, subnet };
};

describe('the contract Nova answers as Nova does', () => {
  it('lists a server that failed scheduling without its fault (it is in cell0), and shows the fault on its own GET', async () => {
    // Prepare
    const cloud = await contractCloud({ bootMs: 1000 });
    const api = await client(cloud);
    const { net } = await network(api);
    const { id } = (await api.nova('POST', '/servers', { server: { name: 'x', flavorRef: '99', imageRef: IMAGE, networks: [{ uuid: net.id }] } })).body.server;
    cloud.clock.advance(1000);

    // Act
    const listed = (await api.nova('GET', '/servers/detail')).body.servers[0];
    const shown = (await api.nova('GET', `/servers/${id}`)).body.server;

    // Assess
    expect(listed.status).toBe('ERROR');
    expect(listed.fault).toBeUndefined();
    expect(listed['OS-EXT-AZ:availability_zone']).toBe('');
    expect(shown.fault).toMatchObject({ code: 500, message: 'No valid host was found. ' });
    // Never built: no ports to read groups from, and no progress.
    expect(shown).not.toHaveProperty('security_groups');
    expect(shown).not.toHaveProperty('progress');
  });

  it('shows a floating IP in the server’s addresses only some time after Neutron associated it, and drops it some time after it left', async () => {
    // Prepare
    const cloud = await contractCloud({ novaAddressLagMs: 2000 });
    const api = await client(cloud);
    const { net, subnet } = await network(api);
    const router = (await api.neutron('POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: cloud.state.externalNetworkId } } })).body.router;
    await api.neutron('PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const { id } = (await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', imageRef: IMAGE, networks: [{ uuid: net.id }] } })).body.server;
    const [port] = (await api.neutron('GET', `/ports?device_id=${id}`)).body.ports;
    const floatingOf = async () => (await api.nova('GET', `/servers/${id}`)).body.server.addresses.n.filter((address: any) => address['OS-EXT-IPS:type'] === 'floating').map((address: any) => address.addr);

    // Act
    const ip = (await api.neutron('POST', '/floatingips', { floatingip: { floating_network_id: cloud.state.externalNetworkId, port_id: port.id } })).body.floatingip;
    const atOnce = await floatingOf();
    cloud.clock.advance(2000);
    const later = await floatingOf();
    await api.neutron('PUT', `/floatingips/${ip.id}`, { floatingip: { port_id: null } });
    const stillShown = await floatingOf();
    cloud.clock.advance(2000);
    const gone = await floatingOf();

    // Assess
    expect([atOnce, later, stillShown, gone]).toEqual([[], [ip.floating_ip_address], [ip.floating_ip_address], []]);
  });

  it('shows when an ACTIVE server was launched (OS-SRV-USG:launched_at, Nova’s form), and none while it builds', async () => {
    // Prepare
    const cloud = await contractCloud({ bootMs: 1000 });
    const api = await client(cloud);
    const { net } = await network(api);
    const { id } = (await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', imageRef: IMAGE, networks: [{ uuid: net.id }] } })).body.server;

    // Act
    const building = (await api.nova('GET', `/servers/${id}`)).body.server;
    cloud.clock.advance(1000);
    const active = (await api.nova('GET', '/servers/detail')).body.servers[0];

    // Assess
    expect([building.status, building['OS-SRV-USG:launched_at']]).toEqual(['BUILD', null]);
    expect(active.status).toBe('ACTIVE');
    expect(active['OS-SRV-USG:launched_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/);
    expect(active['OS-SRV-USG:terminated_at']).toBeNull();
  });

  it('puts a server created without groups in its project’s default group', async () => {
    // Prepare
    const cloud = await contractCloud();
    const api = await client(cloud);
    const { net } = await network(api);

    // Act
    const { id } = (await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', imageRef: IMAGE, networks: [{ uuid: net.id }] } })).body.server;

    // Assess
    const [group] = (await api.neutron('GET', '/security-groups?name=default')).body.security_groups;
    expect((await api.nova('GET', `/servers/${id}`)).body.server.security_groups).toEqual([{ name: 'default' }]);
    expect((await api.neutron('GET', `/ports?device_id=${id}`)).body.ports[0].security_groups).toEqual([group.id]);
  });

  it('accepts a volume-backed server without Cinder, and fails its build on the host, the fault in the list', async () => {
    // Prepare
    const cloud = await contractCloud({ withCinder: false, bootMs: 1000 });
    const api = await client(cloud);
    const { net } = await network(api);
    const mapping = [{ boot_index: 0, uuid: IMAGE, source_type: 'image', destination_type: 'volume', volume_size: 2, delete_on_termination: true }];

    // Act
    const created = await api.nova('POST', '/servers', { server: { name: 'v', flavorRef: '1', block_device_mapping_v2: mapping, networks: [{ uuid: net.id }] } });
    cloud.clock.advance(1000);
    const listed = (await api.nova('GET', '/servers/detail')).body.servers[0];

    // Assess
    expect(created.status).toBe(202);
    expect(listed.status).toBe('ERROR');
    expect(listed.fault.message).toBe(`Build of instance ${created.body.server.id} aborted: publicURL endpoint for volumev3 service in RegionOne region not found`);
  });
});

describe('the contract Nova negotiates, validates and answers as Nova does', () => {
  it('echoes an unsupported version on its 406, and refuses a version that is not one with 400 and no version', async () => {
    // Prepare
    const api = await client(await contractCloud());

    // Act
    const unsupported = await api.nova('GET', '/flavors/detail', undefined, '2.99');
    const malformed = await api.nova('GET', '/flavors/detail', undefined, 'abc');

    // Assess
    expect([unsupported.status, unsupported.headers.get('openstack-api-version')]).toEqual([406, 'compute 2.99']);
    expect(unsupported.body).toEqual({ computeFault: { code: 406, message: 'Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.93.' } });
    expect([malformed.status, malformed.headers.get('openstack-api-version')]).toEqual([400, null]);
    expect(malformed.body.badRequest.message).toBe('API Version String abc is of invalid format. Must be of format MajorNum.MinorNum.');
  });

  it('refuses a limit that is not a number with the schema’s words', async () => {
    // Prepare
    const api = await client(await contractCloud());

    // Act
    const answer = await api.nova('GET', '/servers/detail?limit=-1');

    // Assess
    expect(answer.body).toEqual({ badRequest: { code: 400, message: "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'" } });
  });

  it('answers a create with the server’s links on the catalog’s endpoint, and the default group when none was asked for', async () => {
    // Prepare
    const cloud = await contractCloud();
    const api = await client(cloud);
    const { net } = await network(api);

    // Act
    const answer = await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', imageRef: IMAGE, networks: [{ uuid: net.id }] } });

    // Assess
    const { id } = answer.body.server;
    expect(answer.headers.get('location')).toBe(`${cloud.url}/compute/v2.1/servers/${id}`);
    expect(answer.body.server).toMatchObject({
      links: [
        { rel: 'self', href: `${cloud.url}/compute/v2.1/servers/${id}` },
        { rel: 'bookmark', href: `${cloud.url}/compute/servers/${id}` },
      ],
      security_groups: [{ name: 'default' }],
    });
  });

  it.each([
    ['an empty name', { name: '' }, "Invalid input for field/attribute name. Value: . '' is too short"],
    ['an image that is no id', { imageRef: 'not-a-uuid' }, "Invalid input for field/attribute imageRef. Value: not-a-uuid. 'not-a-uuid' is not valid under any of the given schemas"],
    ['a network that is no id', { networks: [{ uuid: 'nope' }] }, "Invalid input for field/attribute networks. Value: [{'uuid': 'nope'}]. [{'uuid': 'nope'}] is not valid under any of the given schemas"],
    ['a metadata key with a slash', { metadata: { 'a/b': 'x' } }, "Invalid input for field/attribute metadata. Value: {'a/b': 'x'}. 'a/b' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"],
    ['a metadata value over 255', { metadata: { k: 'v'.repeat(256) } }, `Invalid input for field/attribute k. Value: ${'v'.repeat(256)}. '${'v'.repeat(256)}' is too long`],
    ['a tag with a comma', { tags: ['ok', 'a,b'] }, "Invalid input for field/attribute 1. Value: a,b. 'a,b' does not match '^[^,/]*$'"],
    ['a tag over 60', { tags: ['x'.repeat(61)] }, `Invalid input for field/attribute 0. Value: ${'x'.repeat(61)}. '${'x'.repeat(61)}' is too long`],
    ['a group it cannot find', { security_groups: [{ name: 'nope' }] }, "Unable to find security_group with name or id 'nope'"],
  ])('refuses %s with Nova’s message', async (_, change, message) => {
    // Prepare
    const api = await client(await contractCloud());
    const { net } = await network(api);

    // Act
    const answer = await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', imageRef: IMAGE, networks: [{ uuid: net.id }], ...change } });

    // Assess
    expect(answer.body).toEqual({ badRequest: { code: 400, message } });
  });

  it('words an image too big for the flavor, or for the boot volume, in bytes', async () => {
    // Prepare
    const api = await client(await contractCloud());
    const { net } = await network(api);
    const debian = '155d900f-4e14-4e4c-a73d-069cbf4541e6';
    const mapping = [{ boot_index: 0, uuid: debian, source_type: 'image', destination_type: 'volume', volume_size: 2, delete_on_termination: true }];

    // Act
    const flavor = await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', imageRef: debian, networks: [{ uuid: net.id }] } });
    const volume = await api.nova('POST', '/servers', { server: { name: 's', flavorRef: '1', block_device_mapping_v2: mapping, networks: [{ uuid: net.id }] } });

    // Assess
    expect(flavor.body.badRequest.message).toBe("Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is 1073741824 bytes, minimum size is 8589934592 bytes.");
    expect(volume.body.badRequest.message).toBe('Volume is smaller than the minimum size specified in image metadata. Volume size is 2147483648 bytes, minimum size is 8589934592 bytes.');
  });

  it('refuses tags before 2.52 quoting the body as Python writes it, and takes user data Python’s lenient base64 takes', async () => {
    // Prepare
    const api = await client(await contractCloud());
    const { net } = await network(api);
    const body = { name: 's', flavorRef: '1', imageRef: IMAGE, networks: [{ uuid: net.id }] };

    // Act
    const early = await api.nova('POST', '/servers', { server: { ...body, tags: ['a'] } }, '2.51');
    const lenient = await api.nova('POST', '/servers', { server: { ...body, user_data: '!!!' } });

    // Assess
    expect(early.body.badRequest.message).toBe(
      `Invalid input for field/attribute server. Value: {'name': 's', 'flavorRef': '1', 'imageRef': '${IMAGE}', 'networks': [{'uuid': '${net.id}'}], 'tags': ['a']}. Additional properties are not allowed ('tags' was unexpected)`,
    );
    expect(lenient.status).toBe(202);
  });
});

describe('the contract’s refusals of a token and of a path are worded as each service words them', () => {
  it('names Keystone in WWW-Authenticate: Keystone’s own for a wrong password, keystonemiddleware’s for a service, Glance’s as a page', async () => {
    // Prepare
    const cloud = await contractCloud();

    // Act
    const login = await fetch(`${cloud.url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: 'wrong' } } } } }),
    });
    const nova = await fetch(`${cloud.url}/compute/v2.1/servers/detail`, { headers: { 'X-Auth-Token': 'bogus' } });
    const glance = await fetch(`${cloud.url}/image/v2/images`, { headers: { 'X-Auth-Token': 'bogus' } });

    // Assess
    expect([login.status, login.headers.get('www-authenticate')]).toEqual([401, `Keystone uri="${cloud.url}/identity/v3"`]);
    expect([nova.status, nova.headers.get('www-authenticate')]).toEqual([401, `Keystone uri="${cloud.url}/identity"`]);
    expect(await nova.json()).toEqual({ error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
    expect([glance.status, glance.headers.get('content-type')]).toEqual([401, 'text/html; charset=UTF-8']);
    expect(await glance.text()).toContain('<h1>401 Unauthorized</h1>');
  });

  it('refuses an application credential that asks for a scope with Keystone’s own sentence', async () => {
    // Prepare
    const cloud = await contractCloud();

    // Act
    const login = await fetch(`${cloud.url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['application_credential'], application_credential: { id: APPLICATION_CREDENTIAL.id, secret: APPLICATION_CREDENTIAL.secret } },
          scope: { project: { name: 'demo', domain: { id: 'default' } } },
        },
      }),
    });

    // Assess
    expect(login.status).toBe(401);
    expect(await login.json()).toEqual({ error: { code: 401, identity: {}, message: 'Error authenticating with application credential: Application credentials cannot request a scope.', title: 'Unauthorized' } });
  });

  it('answers a missing image with Glance’s HTML page, an unknown Nova path with webob’s, an unknown Neutron path in JSON', async () => {
    // Prepare
    const api = await client(await contractCloud());

    // Act
    const image = await api.glance('GET', '/images/00000000-0000-4000-8000-000000000000');
    const nova = await api.nova('GET', '/nothing');
    const neutron = await api.neutron('GET', '/nothing');

    // Assess
    expect([image.status, image.headers.get('content-type')]).toEqual([404, 'text/html; charset=UTF-8']);
    expect(image.body).toContain('No image found with ID 00000000-0000-4000-8000-000000000000<br /><br />');
    expect(nova.body).toContain('<title>404 Not Found</title>');
    expect(neutron.body).toEqual({ NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } });
  });
});

describe('the contract Neutron keeps security group rules as Neutron does', () => {
  const group = async (cloud: ContractCloud) => {
    const api = await client(cloud);
    const { id } = (await api.neutron('POST', '/security-groups', { security_group: { name: 'g' } })).body.security_group;
    const post = (rules: Record<string, unknown>[]) =>
      api.neutron('POST', '/security-group-rules', rules.length === 1 ? { security_group_rule: { security_group_id: id, ...rules[0] } } : { security_group_rules: rules.map((rule) => ({ security_group_id: id, ...rule })) });
    return { api, id, post };
  };

  it.each([
    ['icmp for IPv6 as ipv6-icmp', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', remote_ip_prefix: '2001:db8::/32' }, { protocol: 'ipv6-icmp' }],
    ['every tcp port as no ports', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 1, port_range_max: 65535 }, { port_range_min: null, port_range_max: null }],
    ['an icmp type and code in the port range', { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', port_range_min: 8, port_range_max: 0 }, { port_range_min: 8, port_range_max: 0 }],
    ['a protocol Neutron knows by name, and an empty description', { direction: 'ingress', ethertype: 'IPv4', protocol: 'gre' }, { protocol: 'gre', description: '' }],
    ['a prefix as written, normalised beside it', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', remote_ip_prefix: '10.1.2.3/8' }, { remote_ip_prefix: '10.1.2.3/8', normalized_cidr: '10.0.0.0/8' }],
  ])('stores %s', async (_, rule, stored) => {
    // Prepare
    const { post } = await group(await contractCloud());

    // Act
    const answer = await post([rule]);

    // Assess
    expect(answer.status).toBe(201);
    expect(answer.body.security_group_rule).toMatchObject(stored);
  });

  it.each([
    ['ports without a protocol', { direction: 'ingress', ethertype: 'IPv4', port_range_min: 5, port_range_max: 6 }, 'SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.'],
    ['an IPv6 prefix on an IPv4 rule', { direction: 'ingress', ethertype: 'IPv4', remote_ip_prefix: '2001:db8::/32' }, 'SecurityGroupRuleParameterConflict', 'Conflicting value ethertype IPv4 for CIDR 2001:db8::/32'],
    ['a tcp range upside down', { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 30, port_range_max: 20 }, 'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
  ])('refuses %s with 400', async (_, rule, type, message) => {
    // Prepare
    const { post } = await group(await contractCloud());

    // Act
    const answer = await post([rule]);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.NeutronError).toMatchObject({ type, message });
  });

  it.each([
    ['0.0.0.0/0 egress, the same as the egress a group comes with', { direction: 'egress', ethertype: 'IPv4', remote_ip_prefix: '0.0.0.0/0' }, null],
    ['protocol 6 once tcp is there', { direction: 'ingress', ethertype: 'IPv4', protocol: '6', port_range_min: 22, port_range_max: 22 }, { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' }],
  ])('answers 409 SecurityGroupRuleExists naming the rule for %s', async (_, rule, first) => {
    // Prepare
    const cloud = await contractCloud();
    const { api, id, post } = await group(cloud);
    if (first) await post([first]);
    const rules = (await api.neutron('GET', `/security-groups/${id}`)).body.security_group.security_group_rules;

    // Act
    const answer = await post([rule]);

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body.NeutronError.type).toBe('SecurityGroupRuleExists');
    expect(rules.map((existing: { id: string }) => `Security group rule already exists. Rule id is ${existing.id}.`)).toContain(answer.body.NeutronError.message);
  });

  it('refuses a bulk with two rules alike (409 DuplicateSecurityGroupRuleInPost) and one with a rule the group has, making none of either', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { post } = await group(cloud);
    const ssh = { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 22, port_range_max: 22 };
    await post([ssh]);
    const before = cloud.state.rules.size;

    // Act
    const twice = await post([{ ...ssh, port_range_min: 80, port_range_max: 80 }, { ...ssh, port_range_min: 80, port_range_max: 80 }]);
    const again = await post([{ ...ssh, port_range_min: 53, port_range_max: 53 }, ssh]);

    // Assess
    expect([twice.status, twice.body.NeutronError.type, twice.body.NeutronError.message]).toEqual([409, 'DuplicateSecurityGroupRuleInPost', 'Duplicate Security Group Rule in POST.']);
    expect([again.status, again.body.NeutronError.type]).toEqual([409, 'SecurityGroupRuleExists']);
    expect(cloud.state.rules.size).toBe(before);
  });
});

describe('the contract Neutron refuses and answers as Neutron does', () => {
  /** A router on the external network with an interface on a new subnet, and a port of a server on it. */
  const routed = async (cloud: ContractCloud) => {
    const api = await client(cloud);
    const { net, subnet } = await network(api);
    const router = (await api.neutron('POST', '/routers', { router: { name: 'r', external_gateway_info: { network_id: cloud.state.externalNetworkId } } })).body.router;
    const added = (await api.neutron('PUT', `/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id })).body;
    const port = (await api.neutron('POST', '/ports', { port: { network_id: net.id, device_id: 'server-1', device_owner: 'compute:nova' } })).body.port;
    return { api, net, subnet, router, port, routerPort: added.port_id as string };
  };

  it.each([
    ['tags in a create (they came to creates after Zed)', { network: { name: 'n', tags: ['a'] } }, "Attribute 'tags' not allowed in POST"],
    ['an attribute it does not know', { network: { name: 'n', bogus: 1 } }, "Unrecognized attribute(s) 'bogus'"],
  ])('refuses %s: 400 HTTPBadRequest', async (_, body, message) => {
    // Prepare
    const api = await client(await contractCloud());

    // Act
    const answer = await api.neutron('POST', '/networks', body);

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.NeutronError).toEqual({ type: 'HTTPBadRequest', message, detail: '' });
  });

  it('refuses a subnet whose CIDR is not one, and one that overlaps another of its network, as InvalidInput', async () => {
    // Prepare
    const api = await client(await contractCloud());
    const { net } = await network(api, '10.93.0.0/24');

    // Act
    const bogus = await api.neutron('POST', '/subnets', { subnet: { network_id: net.id, cidr: 'bogus', ip_version: 4 } });
    const overlapping = await api.neutron('POST', '/subnets', { subnet: { network_id: net.id, cidr: '10.93.0.0/25', ip_version: 4 } });

    // Assess
    expect(bogus.body.NeutronError).toEqual({ type: 'InvalidInput', message: 'Invalid input for operation: bogus is not in a CIDR format.', detail: '' });
    expect(overlapping.body.NeutronError).toEqual({
      type: 'InvalidInput',
      message: `Invalid input for operation: Requested subnet with cidr: 10.93.0.0/25 for network: ${net.id} overlaps with another subnet.`,
      detail: '',
    });
  });

  it('gives every project its own default group (egress anywhere, ingress from its members); an admin sees every project’s', async () => {
    // Prepare
    const cloud = await contractCloud();
    const demo = await client(cloud);
    const admin = await client(cloud, { user: 'admin', password: 'ospeer' });

    // Act
    const seen = (await demo.neutron('GET', '/security-groups')).body.security_groups;
    const all = (await admin.neutron('GET', '/security-groups')).body.security_groups;

    // Assess
    expect(seen.map((group: any) => group.name)).toEqual(['default']);
    const [group] = seen;
    const rules = group.security_group_rules.map((rule: any) => `${rule.direction} ${rule.ethertype} ${rule.protocol} ${rule.remote_ip_prefix} ${rule.remote_group_id === group.id ? 'self' : rule.remote_group_id}`);
    expect(rules.sort()).toEqual(['egress IPv4 null null null', 'egress IPv6 null null null', 'ingress IPv4 null null self', 'ingress IPv6 null null self']);
    expect(all.map((candidate: any) => candidate.name)).toEqual(['default', 'default']);
    expect(new Set(all.map((candidate: any) => candidate.project_id)).size).toBe(2);
  });

  it('shows another project the external network but not its subnet; an admin sees the subnet', async () => {
    // Prepare
    const cloud = await contractCloud();
    const demo = await client(cloud);
    const admin = await client(cloud, { user: 'admin', password: 'ospeer' });

    // Act
    const [external] = (await demo.neutron('GET', '/networks?router:external=true')).body.networks;
    const subnetId = external.subnets[0];
    const listed = (await demo.neutron('GET', `/subnets?network_id=${external.id}`)).body.subnets;
    const shown = await demo.neutron('GET', `/subnets/${subnetId}`);
    const asAdmin = (await admin.neutron('GET', `/subnets?network_id=${external.id}`)).body.subnets;

    // Assess
    expect(external).toMatchObject({ name: 'public', 'router:external': true, shared: false });
    expect(external.project_id).not.toBe((await demo.neutron('GET', '/security-groups')).body.security_groups[0].project_id);
    expect(listed).toEqual([]);
    expect([shown.status, shown.body.NeutronError.type]).toEqual([404, 'SubnetNotFound']);
    expect(asAdmin.map((subnet: any) => [subnet.id, subnet.cidr])).toEqual([[subnetId, '203.0.113.0/24']]);
  });

  it('refuses a filter the collection does not have, and takes booleans however written', async () => {
    // Prepare
    const cloud = await contractCloud();
    const api = await client(cloud);

    // Act
    const bogus = await api.neutron('GET', '/networks?bogus=1');
    const external = await api.neutron('GET', '/networks?router:external=True&fields=id&fields=name');

    // Assess
    expect([bogus.status, bogus.body.NeutronError.type, bogus.body.NeutronError.message]).toEqual([400, 'HTTPBadRequest', "['bogus'] is invalid attribute for filtering"]);
    expect(external.body.networks).toEqual([{ id: cloud.state.externalNetworkId, name: 'public' }]);
  });

  it('answers a create with the resource as a list shows it, a router with its gateway address', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { api, net, router } = await routed(cloud);

    // Act
    const listed = await api.neutron('GET', `/networks?id=${net.id}`);
    const routers = await api.neutron('GET', `/routers?id=${router.id}`);

    // Assess
    expect(listed.body.networks[0]).toEqual({ ...net, subnets: listed.body.networks[0].subnets });
    expect(Object.keys(net)).not.toContain('external');
    expect(net.is_default).toBe(false);
    expect(router).toEqual(routers.body.routers[0]);
    expect(router.external_gateway_info).toMatchObject({ network_id: cloud.state.externalNetworkId, enable_snat: true, external_fixed_ips: [{ ip_address: expect.stringMatching(/^203\.0\.113\./) }] });
  });

  it('names the ports that hold a network or a router in its 409', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { api, net, router, port, routerPort } = await routed(cloud);

    // Act
    const network = await api.neutron('DELETE', `/networks/${net.id}`);
    const routerDelete = await api.neutron('DELETE', `/routers/${router.id}`);

    // Assess
    expect(network.status).toBe(409);
    expect(network.body.NeutronError.type).toBe('NetworkInUse');
    expect(network.body.NeutronError.message).toMatch(new RegExp(`^Unable to complete operation on network ${net.id}\\. There are one or more ports still in use on the network, id for these ports is: [0-9a-f,-]+\\.$`));
    expect(network.body.NeutronError.message).toContain(port.id);
    expect(network.body.NeutronError.message).toContain(routerPort);
    expect(routerDelete.body.NeutronError).toEqual({ type: 'RouterInUse', message: `Router ${router.id} has ports still attached: ${routerPort}`, detail: '' });
  });

  it('removes a router interface by port or by subnet, each with its own 404, and answers the network and subnets', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { api, subnet, router, port, routerPort } = await routed(cloud);

    // Act
    const notInterface = await api.neutron('PUT', `/routers/${router.id}/remove_router_interface`, { port_id: port.id });
    const removed = await api.neutron('PUT', `/routers/${router.id}/remove_router_interface`, { port_id: routerPort });
    const noSubnet = await api.neutron('PUT', `/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id });

    // Assess
    expect(notInterface.body.NeutronError).toEqual({ type: 'RouterInterfaceNotFound', message: `Router ${router.id} does not have an interface with id ${port.id}`, detail: '' });
    expect(removed.body).toMatchObject({ id: router.id, port_id: routerPort, network_id: subnet.network_id, subnet_id: subnet.id, subnet_ids: [subnet.id] });
    expect(noSubnet.body.NeutronError).toEqual({ type: 'RouterInterfaceNotFoundForSubnet', message: `Router ${router.id} has no interface on subnet ${subnet.id}`, detail: '' });
  });

  it('refuses a second floating IP on a port naming the one it would have made, and keeps none of it', async () => {
    // Prepare
    const cloud = await contractCloud();
    const { api, port } = await routed(cloud);
    await api.neutron('POST', '/floatingips', { floatingip: { floating_network_id: cloud.state.externalNetworkId, port_id: port.id } });

    // Act
    const second = await api.neutron('POST', '/floatingips', { floatingip: { floating_network_id: cloud.state.externalNetworkId, port_id: port.id } });

    // Assess
    expect(second.status).toBe(409);
    expect(second.body.NeutronError.type).toBe('FloatingIPPortAlreadyAssociated');
    expect(second.body.NeutronError.message).toMatch(
      new RegExp(`^Cannot associate floating IP 203\\.0\\.113\\.\\d+ \\([0-9a-f-]{36}\\) with port ${port.id} using fixed IP 10\\.98\\.0\\.\\d+, as that fixed IP already has a floating IP on external network ${cloud.state.externalNetworkId}\\.$`),
    );
    expect(cloud.state.floatingIps.size).toBe(1);
  });

  it.each([
    ['routers', 'RouterNotFound', 'Router %s could not be found'],
    ['floatingips', 'FloatingIPNotFound', 'Floating IP %s could not be found'],
    ['security-groups', 'SecurityGroupNotFound', 'Security group %s does not exist'],
    ['networks', 'NetworkNotFound', 'Network %s could not be found.'],
  ])('answers a missing one of %s with its own 404', async (collection, type, message) => {
    // Prepare
    const api = await client(await contractCloud());
    const id = '00000000-0000-4000-8000-000000000000';

    // Act
    const answer = await api.neutron('DELETE', `/${collection}/${id}`);

    // Assess
    expect(answer.status).toBe(404);
    expect(answer.body.NeutronError).toEqual({ type, message: message.replace('%s', id), detail: '' });
  });

  it('takes tags on the tag extension’s resources only, each at most 255 characters, and lists them sorted', async () => {
    // Prepare
    const cloud = await contractCloud();
    const api = await client(cloud);
    const { net } = await network(api);
    const [rule] = (await api.neutron('GET', '/security-group-rules')).body.security_group_rules;

    // Act
    const onRule = await api.neutron('PUT', `/security-group-rules/${rule?.id ?? net.id}/tags`, { tags: ['a'] });
    const long = await api.neutron('PUT', `/networks/${net.id}/tags`, { tags: ['x'.repeat(256)] });
    const put = await api.neutron('PUT', `/networks/${net.id}/tags`, { tags: ['k=v', 'a,b', 'a'] });
    const listed = await api.neutron('GET', `/networks?tags=a,k=v`);

    // Assess
    expect(onRule.body.NeutronError).toEqual({ type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' });
    expect(long.body.NeutronError).toEqual({ type: 'InvalidInput', message: `Invalid input for operation: '${'x'.repeat(256)}' exceeds maximum length of 255.`, detail: '' });
    expect(put.body.tags).toEqual(['k=v', 'a,b', 'a']);
    expect(listed.body.networks.map((found: { tags: string[] }) => found.tags)).toEqual([['a', 'a,b', 'k=v']]);
  });
});
