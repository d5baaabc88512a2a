/** Request bodies used across tests. */
import { SEED_EXAMPLE, type CompatCreateRequest } from '#domain/compat-request';

/** A fresh copy of the seed's curl example body (seed 000). */
export const seedRequest = (): CompatCreateRequest => ({ ...SEED_EXAMPLE });
