/**
 * `POST /v1/clusters/{id}/node-reports`: the cloud-init runner's nodes report here and are told
 * what to do next (#use-cases/node-reports). No project token: the route is authenticated by the
 * cluster's node secret (`Authorization: Node <secret>`), which opens this route for that cluster
 * and nothing else; API Gateway's token authorizer is not in front of it.
 */
import { Unauthorized } from '#domain/errors';
import { nodeReportSchema, nodeSecretOf, type NodeReport } from '#domain/node-agents';
import { receiveNodeReport, type NodeReportDeps } from '#use-cases/node-reports';
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
  });
