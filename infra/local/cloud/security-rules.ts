/** Security rules as the emulated cloud keeps them on its networks: normal, and each once. */
import type { SecurityRule } from '#domain/model';

/** A rule with its fields in one order and no empty ones, so equal rules compare equal. */
export function normalRule(rule: SecurityRule): SecurityRule {
  return {
    direction: rule.direction,
    protocol: rule.protocol,
    ethertype: rule.ethertype,
    remoteIpPrefix: rule.remoteIpPrefix,
    ...(rule.portRangeMin === undefined ? {} : { portRangeMin: rule.portRangeMin }),
    ...(rule.portRangeMax === undefined ? {} : { portRangeMax: rule.portRangeMax }),
  };
}

/** The rules in order, each first one only (rules are normal, so equal ones serialize alike). */
export function withoutRepeats(rules: SecurityRule[]): SecurityRule[] {
  const seen = new Set<string>();
  return rules.filter((rule) => {
    const key = JSON.stringify(rule);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
