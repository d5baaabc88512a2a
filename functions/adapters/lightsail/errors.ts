/**
 * Lightsail's answers in the domain's terms (docs/lightsail-provider.md, "Errors"): throttling,
 * ServiceException and an account or region still being set up are retried; a refusal becomes a
 * ProviderError named after what went wrong, carrying Lightsail's message.
 */
import { ProviderError, QuotaExceeded } from '#domain/errors';
import { awsError, type SdkError } from '../aws/errors.ts';

/** Lightsail's exception names and the codes a cluster shows for them. */
const REFUSALS: Record<string, string> = {
  InvalidInputException: 'LightsailInvalidInput',
  NotFoundException: 'LightsailNotFound',
  OperationFailureException: 'LightsailOperationFailure',
  AccessDeniedException: 'ProviderForbidden',
  UnauthenticatedException: 'ProviderAuthFailed',
};

const refusal = (operation: string) => (sdk: SdkError): Error => {
  const message = `Lightsail ${operation}: ${sdk.name}: ${sdk.message}`;
  // Lightsail says a limit is reached as a refusal of the input or of the operation.
  if ((sdk.name === 'InvalidInputException' || sdk.name === 'OperationFailureException') && /quota|limit/i.test(sdk.message) && !/name/i.test(sdk.message)) {
    return new QuotaExceeded(message);
  }
  return new ProviderError(REFUSALS[sdk.name] ?? `Lightsail${sdk.name.replace(/Exception$/, '')}`, message);
};

export const lightsailError = (operation: string, error: unknown): Error =>
  awsError('Lightsail', operation, error, {
    transient: ['ServiceException', 'AccountSetupInProgressException', 'RegionSetupInProgressException'],
    refusal: refusal(operation),
  });

/** Whether Lightsail refused because a name is taken (it answers InvalidInputException), after `lightsailError`. */
export const isNameInUse = (error: unknown): boolean =>
  error instanceof ProviderError && error.code === 'LightsailInvalidInput' && /already in use|already exists?/i.test(error.message);

/** One Lightsail call, its error in the domain's terms. */
export const callLightsail = async <T>(operation: string, send: () => Promise<T>): Promise<T> => {
  try {
    return await send();
  } catch (error) {
    throw lightsailError(operation, error);
  }
};
