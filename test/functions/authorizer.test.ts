import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAuthorizer } from '../../functions/authorizer/index.ts';
import { extractToken, hashToken, issueToken } from '#use-cases/tokens';
import { startTestTable, type TestTable } from '../support/dynamodb.ts';

const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/backend/create_lambda_instance';

const event = (headers: Record<string, string>): APIGatewayRequestAuthorizerEvent =>
  ({ type: 'REQUEST', methodArn: METHOD_ARN, headers } as unknown as APIGatewayRequestAuthorizerEvent);

let table: TestTable;
let authorize: ReturnType<typeof createAuthorizer>;
let token: string;

beforeAll(async () => {
  table = await startTestTable();
  authorize = createAuthorizer({ tokens: table.tokens });
  ({ token } = await issueToken(table.tokens, { project: 'alpha' }));
});
afterAll(async () => {
  await table.stop();
});

describe('the REQUEST authorizer', () => {
  it('allows `Authorization: Token <t>` and puts the token’s project into the context', async () => {
    const result = await authorize(event({ Authorization: `Token ${token}` }));
    expect(result.context).toEqual({ project: 'alpha' });
    expect(result.principalId).toBe('project:alpha');
    expect(result.policyDocument.Statement).toEqual([
      { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*' },
    ]);
  });

  it('allows `x-api-key: <t>` whatever the header’s case', async () => {
    const result = await authorize(event({ 'X-Api-Key': token }));
    expect(result.context).toEqual({ project: 'alpha' });
  });

  it('refuses a request with no token', async () => {
    await expect(authorize(event({}))).rejects.toThrow('Unauthorized');
  });

  it.each([
    ['Bearer scheme', () => `Bearer ${token}`],
    ['lower-case scheme', () => `token ${token}`],
    ['scheme alone', () => 'Token'],
    ['two words', () => `Token ${token} extra`],
    ['too short', () => 'Token abc'],
    ['bad characters', () => 'Token abc$def%ghi^jklmnop'],
  ])('refuses a malformed Authorization header (%s)', async (_, header) => {
    await expect(authorize(event({ Authorization: header() }))).rejects.toThrow('Unauthorized');
  });

  it('refuses a malformed Authorization header even when x-api-key holds a good token', async () => {
    await expect(authorize(event({ Authorization: `Bearer ${token}`, 'x-api-key': token }))).rejects.toThrow('Unauthorized');
  });

  it('refuses a well-formed token nobody issued', async () => {
    await expect(authorize(event({ Authorization: 'Token tJ3b3f32f23ceuqdoS_TH7m0d6yxmlWL1r2ralKcttR' }))).rejects.toThrow('Unauthorized');
  });

  it('refuses a revoked token', async () => {
    const issued = await issueToken(table.tokens, { project: 'alpha' });
    await table.tokens.put({ ...issued.record, revoked: true });
    await expect(authorize(event({ Authorization: `Token ${issued.token}` }))).rejects.toThrow('Unauthorized');
  });

  it('refuses an expired token and allows one not yet expired', async () => {
    const expired = await issueToken(table.tokens, { project: 'alpha', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const valid = await issueToken(table.tokens, { project: 'beta', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await expect(authorize(event({ Authorization: `Token ${expired.token}` }))).rejects.toThrow('Unauthorized');
    expect((await authorize(event({ Authorization: `Token ${valid.token}` }))).context).toEqual({ project: 'beta' });
  });

  it('stores only the SHA-256 of a token, never the token', async () => {
    const issued = await issueToken(table.tokens, { project: 'gamma' });
    expect(issued.record.hash).toBe(hashToken(issued.token));
    expect(JSON.stringify(await table.tokens.get(issued.record.hash))).not.toContain(issued.token);
  });
});

describe('token extraction', () => {
  it('prefers the Authorization header to x-api-key', () => {
    expect(extractToken({ authorization: 'Token aaaaaaaaaaaaaaaaaaaa', 'x-api-key': 'bbbbbbbbbbbbbbbbbbbb' })).toBe('aaaaaaaaaaaaaaaaaaaa');
  });

  it('answers null when there are no headers', () => {
    expect(extractToken(null)).toBeNull();
  });
});
