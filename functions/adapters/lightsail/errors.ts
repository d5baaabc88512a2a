/**
 * Lightsail's answers in the domain's terms (docs/lightsail-provider.md, "Errors"): throttling,
 * ServiceException and an account still being set up are retried; a refusal becomes a
 * ProviderError named after what went wrong, carrying Lightsail's message.
 */
import { ProviderError } from '#domain/errors';
import { awsError, type SdkError } from '../aws/errors.ts';

/** Lightsail's exception names and the codes a cluster shows for them. */
const REFUSALS: Record<string, string> = {
  InvalidInputException: 'LightsailInvalidInput',
  NotFoundException: 'LightsailNotFound',
  OperationFailureException: 'LightsailOperationFailure',
  AccessDeniedException: 'LightsailAccessDenied',
  UnauthenticatedException: 'LightsailUnauthenticated',
};

export const lightsailError = (operation: string, error: unknown): Error =>
  awsError('Lightsail', operation, error, {
    transient: ['ServiceException', 'AccountSetupInProgressException'],
    refusal: (sdk: SdkError) => new ProviderError(REFUSALS[sdk.name] ?? sdk.name, `Lightsail ${operation}: ${sdk.name}: ${sdk.message}`),
  });

/** Whether Lightsail refused because a name is taken (it answers InvalidInputException). */
export const isNameInUse = (error: unknown): boolean =>
  error instanceof Error && error.name === 'InvalidInputException' && /already in use|already exist/i.test(error.message);
