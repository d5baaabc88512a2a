/**
 * What the scripts against a real OpenStack share: the peer's settings as defaults (any of them
 * overridden by the environment), and their output — one line per check, then PASS or FAIL as
 * the last line, a failure exiting 1.
 */

/** The peer's demo project, image and external network; the environment overrides each. */
export const peerEnv = (): Record<string, string | undefined> => ({
  OS_CLIENT_CONFIG_FILE: '/var/lib/ospeer/clouds.yaml',
  OS_CLOUD: 'ospeer-demo',
  OPENSTACK_IMAGE: 'cirros-fake',
  OPENSTACK_EXTERNAL_NETWORK: 'public',
  ...process.env,
});

export const checks = (log: (line: string) => void = (line) => process.stdout.write(`${line}\n`)) => {
  const failures: string[] = [];
  const check = (ok: boolean, what: string, detail = ''): boolean => {
    log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
    if (!ok) failures.push(what);
    return ok;
  };
  /** Runs the script, counts what it threw as a failed check, prints the verdict and exits. */
  const run = async (main: () => Promise<void>): Promise<never> => {
    try {
      await main();
    } catch (error) {
      check(false, 'the script ran', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
    log(failures.length === 0 ? 'PASS' : `FAIL (${failures.length}: ${failures.join('; ')})`);
    process.exit(failures.length === 0 ? 0 : 1);
  };
  return { check, run, failures };
};
