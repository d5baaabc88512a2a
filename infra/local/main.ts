/**
 * `npm start`: the whole service on this machine, no AWS account and no Docker.
 * Prints the URL, the local token and the seed's curl example; Ctrl-C stops it, and clusters
 * still provisioning are resumed on the next start.
 */
import { SEED_EXAMPLE } from '#domain/compat-request';
import { logger } from '#lib/logger';
import { readLocalConfig } from './config.ts';
import { LOCAL_PROJECT, startLocalStack } from './stack.ts';

const config = readLocalConfig();
const stack = await startLocalStack({ config });

const example = JSON.stringify(SEED_EXAMPLE);

process.stdout.write(
  [
    '',
    `cluster service (local mode) listening on ${stack.url}`,
    `  DynamoDB (dynalite):  ${stack.dynamodbEndpoint}   data: ${config.LOCAL_DATA_DIR}`,
    `  default provider:     ${config.DEFAULT_PROVIDER}   (PROVIDER=<name> picks another)`,
    ...stack.providers.map((entry) => `    ${entry.available ? '+' : '-'} ${entry.name.padEnd(11)} ${entry.available ? '' : 'unavailable: '}${entry.reason}`),
    stack.resumed.length > 0 ? `  resumed clusters:     ${stack.resumed.join(', ')}` : null,
    '',
    `token for project '${LOCAL_PROJECT}': ${stack.token}`,
    '',
    'try:',
    `  curl -X POST -H "Content-Type: application/json" -H "Authorization: Token ${stack.token}" -d '${example}' '${stack.url}/backend/create_lambda_instance/'`,
    `  curl -H "Authorization: Token ${stack.token}" ${stack.url}/v1/clusters/<uuid>`,
    '',
  ]
    .filter((line) => line !== null)
    .join('\n') + '\n',
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping; unfinished clusters resume on the next start\n`);
  await stack.stop();
  process.exit(0);
};
const stopOn = (signal: string) => () => {
  stop(signal).catch((error: unknown) => {
    logger.error('stopping failed', { error });
    process.exit(1);
  });
};
process.on('SIGINT', stopOn('SIGINT'));
process.on('SIGTERM', stopOn('SIGTERM'));
