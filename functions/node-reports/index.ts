/**
 * `POST /v1/clusters/{id}/node-reports`: the cloud-init runner's nodes report here and are told
 * what to do next (#use-cases/node-reports). No project token: the route is authenticated by the
 * cluster's node secret (`Authorization: Node <secret>`), which opens this route for that cluster
 * and nothing else; API Gateway's token authorizer is not in front of it.
 *
 * `POST /v1/clusters/{id}/provider-events/{secret}`: the cloud's calls about the cluster's servers
 * (Infrahub's `callback_url`, #use-cases/provider-events), opened by the URL's own secret.
 */
import { z } from 'zod';
import { Unauthorized } from '#domain/errors';
import { nodeReportSchema, nodeSecretOf, type NodeReport } from '#domain/node-agents';
import { receiveNodeReport, type NodeReportDeps } from '#use-cases/node-reports';
import { receiveProviderEvent } from '#use-cases/provider-events';
import { httpHandler, json } from '#lib/http';
import { logger } from '#lib/logger';
import { router } from '#lib/router';

export const nodeReportsHandler = (deps: NodeReportDeps) =>
  router({
    'POST /v1/clusters/{id}/node-reports': httpHandler<NodeReport>(
      async (event) => {
        const clusterId = event.pathParameters?.id;
        const answer = await receiveNodeReport(deps, clusterId, event.headers?.authorization, event.body);
        logger.info('node report', { clusterId, node: event.body.node, type: event.body.type, next: answer.next });
        return json(200, answer);
      },
      {
        body: nodeReportSchema,
        // The secret's form is checked first; whether it is the cluster's, once the id is read.
        authenticate: (headers) => {
          if (!nodeSecretOf(headers.authorization)) throw new Unauthorized('a node report needs its cluster’s node secret: Authorization: Node <secret>');
        },
      },
    ),
    // The body is read by the use case once the path's secret is found right: a caller without it learns nothing of what it would take.
    'POST /v1/clusters/{id}/provider-events/{secret}': httpHandler<string | null, Record<string, string>>(
      async (event) => {
        const clusterId = event.pathParameters?.id;
        const answer = await receiveProviderEvent(deps, clusterId, event.pathParameters?.secret, event.body);
        // The path is not logged: its secret opens the route.
        logger.info('provider event', { clusterId, ...answer });
        return json(200, answer);
      },
      // Nothing is read from the query: it is let through so that the secret is checked first here too.
      { query: z.record(z.string(), z.string()) },
    ),
  });
