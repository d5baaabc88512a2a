/**
 * API Gateway REQUEST authorizer: the token (Authorization: Token … or x-api-key) → its project.
 * No HTTP middleware: it answers with an IAM policy, or throws `Unauthorized` for a 401.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import type { TokenStore } from '#domain/token-store';
import { authorizeToken, extractToken } from '#use-cases/tokens';
import { logger } from '#lib/logger';

/** Allow the whole API stage, so the decision does not depend on which route asked first. */
const stageArn = (methodArn: string): string => {
  const [arnPrefix, stage] = methodArn.split('/');
  return `${arnPrefix}/${stage}/*`;
};

export const createAuthorizer =
  (deps: { tokens: TokenStore }) =>
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = extractToken(event.headers);
    if (!token) {
      logger.info('refused: no well-formed token');
      throw new Error('Unauthorized');
    }
    const outcome = await authorizeToken(deps.tokens, token);
    if (!outcome.ok) {
      logger.info('refused', { reason: outcome.reason });
      throw new Error('Unauthorized');
    }
    return {
      principalId: `project:${outcome.project}`,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageArn(event.methodArn) }],
      },
      context: { project: outcome.project },
    };
  };
