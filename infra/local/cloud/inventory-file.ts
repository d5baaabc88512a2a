/**
 * What `<dataDir>/local-cloud.json` holds, and how it is read and written: the emulated cloud's
 * whole inventory, rewritten after every change so a restarted process carries on from it. Fields
 * added since the first version are optional, so files written before them still load.
 */
import { open, readFile, rename } from 'node:fs/promises';
import type { SecurityRule } from '#domain/model';
import type { Port } from './ip-pool.ts';

export const INVENTORY_FILE = 'local-cloud.json';

export interface StoredServer {
  id: string;
  name: string;
  clusterId: string;
  role: string;
  flavor: string;
  vcpus: number;
  ports: Port[];
  createdAtMs: number;
  bootMs: number;
  /** From ACTIVE to its configuration agent online; absent on servers made before agents: at once. */
  agentMs?: number;
  /** Decided at create, so a restart with other settings does not change a server's fate. */
  fault: string | null;
  deletedAtMs: number | null;
  deleteMs: number | null;
  /**
   * The last stop or start: the server is STOPPING then STOPPED, or BUILD then ACTIVE again,
   * `ms` after `atMs`. Absent on a server never stopped.
   */
  power?: { action: 'stop' | 'start'; atMs: number; ms: number };
  // What the create call asked for beyond the size. Absent on servers made before the cloud
  // took options: those read as made in the first zone from the first image, with nothing else.
  zone?: string;
  image?: string;
  keyName?: string;
  /** Key into the inventory's `userData`, which holds each distinct user data once. */
  userDataSha256?: string;
  tags?: Record<string, string>;
}

export interface StoredNetwork {
  id: string;
  clusterId: string;
  index: number;
  subnet: number;
  cidr: string;
  createdAtMs: number;
  /** Absent on networks made before the cloud took rules: none. */
  securityRules?: SecurityRule[];
}

export interface StoredAddress {
  ip: string;
  clusterId: string;
  serverId: string;
  allocatedAtMs: number;
}

export interface StoredClientToken {
  token: string;
  clusterId: string;
  servers: { id: string; name: string }[];
  createdAtMs: number;
}

export interface ConfigurationNode {
  id: string;
  name: string;
  role: string;
}

export interface StoredConfiguration {
  id: string;
  clusterId: string;
  profile: string;
  components: string[];
  nodes: ConfigurationNode[];
  startedAtMs: number;
  durationMs: number;
  /** Decided at start, like a server's fault. */
  failure: { componentIndex: number; node: string } | null;
}

export interface InventoryFile {
  version: 1;
  servers: StoredServer[];
  networks: StoredNetwork[];
  addresses: StoredAddress[];
  clientTokens: StoredClientToken[];
  configurations: StoredConfiguration[];
  /**
   * User data by SHA-256, once however many servers were made with it: the file is rewritten on
   * every change, and 1000 servers × 64 KiB would be 64 MB a write. Absent in older files.
   */
  userData?: Record<string, string>;
}

/** The inventory in `file`, or null when there is no such file yet. */
export async function readInventory(file: string): Promise<InventoryFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}); move it away to start with an empty cloud`);
  }
  const inventory = parsed as Partial<InventoryFile> | null;
  const lists = ['servers', 'networks', 'addresses', 'clientTokens', 'configurations'] as const;
  if (inventory?.version !== 1 || !lists.every((key) => Array.isArray(inventory[key]))) {
    throw new Error(`${file} is not a version 1 local cloud inventory; move it away to start with an empty cloud`);
  }
  return inventory as InventoryFile;
}

/**
 * Writes snapshots of the inventory to `file`, one write at a time so two never interleave.
 * A write asked for while another is queued rides on the queued one, which has not taken its
 * snapshot yet: a burst of changes costs two writes, not one per change.
 */
export class InventoryWriter {
  private writes: Promise<void> = Promise.resolve();
  private queuedWrite: Promise<void> | null = null;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => InventoryFile,
  ) {}

  /** Settles once the file holds every change made before the call. */
  write(): Promise<void> {
    if (this.queuedWrite) return this.queuedWrite;
    const write = this.writes.then(() => {
      this.queuedWrite = null;
      return writeAtomically(this.file, JSON.stringify(this.snapshot(), null, 2));
    });
    this.queuedWrite = write;
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** Waits for the writes asked for so far; a failed one was answered to its caller, not here. */
  idle(): Promise<void> {
    return this.writes;
  }
}

/** Temp file + rename, so a crash mid-write leaves the previous inventory intact. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
