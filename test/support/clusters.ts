/** Request bodies and records used across tests. */
import type { CompatCreateRequest } from '#domain/compat-request';

/** The body of the seed's curl example (seed 000), field for field. */
export const seedRequest = (): CompatCreateRequest => ({
  project_name: 'lambda.grnet.gr',
  instance_name: 'My first Lambda Instance',
  network_request: 1,
  master_name: 'lambda-master',
  vcpus_master: 4,
  disk_slave: 40,
  slaves: 1,
  ram_slave: 4096,
  ram_master: 4096,
  vcpus_slave: 4,
  ip_allocation: 'master',
  disk_master: 40,
});
