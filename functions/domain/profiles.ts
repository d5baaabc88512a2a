/**
 * The configuration profiles and their components, in the order each profile's playbook
 * (configuration/ansible/<profile>.yml) runs them: one play per component, tagged with its name.
 * A run reports the component it is at as the phase `configure:<component>`, and the failed one
 * by name, so every runner and every reader of phases has to agree on this list.
 */
export const PROFILES = {
  lambda: ['common', 'hdfs', 'yarn', 'kafka', 'flink'],
  none: ['none'],
  script: ['script'],
} as const satisfies Record<string, readonly [string, ...string[]]>;

export type ProfileName = keyof typeof PROFILES;
export type ComponentOf<Profile extends ProfileName> = (typeof PROFILES)[Profile][number];

/** In the catalogue's order, which is the order the request schema's enum lists them in. */
export const PROFILE_NAMES = Object.keys(PROFILES) as [ProfileName, ...ProfileName[]];

/** The profile that leaves the nodes as their image made them: its run touches no node. */
export const EMPTY_PROFILE: ProfileName = 'none';

/** The components of a profile, or undefined for a name the catalogue does not have. */
export const componentsOf = (profile: string): readonly string[] | undefined =>
  Object.hasOwn(PROFILES, profile) ? PROFILES[profile as ProfileName] : undefined;
