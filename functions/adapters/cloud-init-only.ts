/**
 * The configuration calls of a provider without a run-command service of its own (openstack,
 * hyperstack, lightsail): its servers are configured by the cloud-init runner, which the workflow
 * drives, so the provider itself runs only the profile `none`.
 */
import { ProviderError } from '#domain/errors';
import type { ConfigurationStatus } from '#domain/provider';

const NONE_RUN = 'none';

export const cloudInitOnlyRuns = (provider: string) => ({
  start: async (input: { profile: string }): Promise<string> => {
    if (input.profile === NONE_RUN) return NONE_RUN;
    throw new ProviderError('ConfigurationRunnerUnavailable', `${provider} servers are configured by the cloud-init runner; profile '${input.profile}' cannot run without it`);
  },
  describe: async (input: { configurationId: string }): Promise<ConfigurationStatus> => {
    if (input.configurationId === NONE_RUN) return { state: 'SUCCEEDED', component: NONE_RUN, message: 'nothing to configure' };
    throw new ProviderError('ConfigurationRunnerUnavailable', `${provider} has no configuration run '${input.configurationId}' of its own: the cloud-init runner runs them`);
  },
});
