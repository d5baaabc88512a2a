/**
 * The contract OpenStack answers as a real one (Zed: Nova, Neutron, Keystone, Glance) answered the
 * same requests: statuses, bodies, headers and states that the adapter's tests rely on. Each case
 * is an exchange observed on a real cloud, asked of the contract over plain HTTP.
 */
import { describe, expect, it } from 'vitest';
import type { ContractCloud } from '../../contract/openstack/server.ts';
import { contractCloud } from './support.ts';

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

/** Plain HTTP to the contract as the demo user: `nova`, `neutron`, `glance` take a path under the service's root. */
const client = async (cloud: ContractCloud) => {
  const login = await fetch(`${cloud.url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'demo', domain: { id: 'default' }, password: 'demo' } } },
        scope: { project: { name: 'demo', domain: { id: 'default' } } },
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
