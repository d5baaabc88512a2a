import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/lib/openapi.ts';
import { ROUTES } from '../../infra/routes.ts';
import { synthesize, type SynthesizedStack } from '../support/cdk.ts';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

interface OpenApiDocument {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref?: string } } | undefined> } } | undefined> | undefined>;
  components: { schemas: Record<string, unknown> };
}

let synthesized: SynthesizedStack;
let template: Template;

/** Full resource paths of the API, rebuilt from each resource's PathPart and parent. */
const resourcePaths = (): Map<string, string> => {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Resources;
  const pathOf = (id: string): string => {
    const properties = resources[id]?.Properties as { PathPart: string; ParentId: { Ref?: string } };
    const parent = properties.ParentId.Ref;
    return `${parent && parent in resources ? pathOf(parent) : ''}/${properties.PathPart}`;
  };
  return new Map(Object.keys(resources).map((id) => [pathOf(id), id]));
};

beforeAll(() => {
  // Only the API's resources are read, not the functions' code.
  synthesized = synthesize('ClusterServiceApi', { 'aws:cdk:bundling-stacks': [] });
  ({ template } = synthesized);
}, 120_000);

describe('the REST API', () => {
  it('logs the errors of every method, without request data, to the stage’s execution log group, made with a retention', () => {
    // Prepare
    const apiId = synthesized.idOf(synthesized.stack.api);
    const executionLogGroupName = { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: apiId }, '/prod']] };

    // Act
    const groups = template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: executionLogGroupName } }) as Resources;

    // Assess
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', DataTraceEnabled: false })]),
    });
    expect(Object.keys(groups)).toHaveLength(1);
    expect(Object.values(groups)[0]?.Properties?.RetentionInDays).toEqual(expect.any(Number));
    // Made before the stage can log, or API Gateway would make it first, keeping its events forever.
    template.hasResource('AWS::ApiGateway::Stage', { DependsOn: Match.arrayWith(Object.keys(groups)) });
  });

  it('describes each route’s JSON body with a draft-04 model of the schema the OpenAPI document names', () => {
    // Prepare
    const paths = resourcePaths();
    const document = openApiDocument() as unknown as OpenApiDocument;
    const models = template.findResources('AWS::ApiGateway::Model') as Resources;

    for (const route of ROUTES) {
      // Act
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      const documented = operation?.requestBody?.content['application/json']?.schema.$ref?.split('/').pop();
      const method = Object.values(
        template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: route.method, ResourceId: { Ref: paths.get(route.path) } } }) as Resources,
      )[0];
      const requestModels = method?.Properties?.RequestModels as Record<string, { Ref: string }> | undefined;

      // Assess
      expect(route.body, `${route.method} ${route.path}`).toBe(documented);
      if (!route.body) {
        expect(requestModels, `${route.method} ${route.path}`).toBeUndefined();
        continue;
      }
      const model = models[requestModels?.['application/json']?.Ref ?? '']?.Properties ?? {};
      type ObjectSchema = { properties: object; required: string[]; additionalProperties?: unknown };
      type BodySchema = ObjectSchema & { $schema: string; oneOf?: ObjectSchema[]; anyOf?: ObjectSchema[] };
      const schema = model.Schema as BodySchema;
      const component = document.components.schemas[route.body] as BodySchema;
      expect(model).toMatchObject({ Name: route.body, ContentType: 'application/json' });
      expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
      // An object, or a union of objects (a node's report, by its type), alternative by alternative.
      const alternativesOf = (body: BodySchema): ObjectSchema[] => body.oneOf ?? body.anyOf ?? [body];
      const modelled = alternativesOf(schema);
      const components = alternativesOf(component);
      expect(modelled).toHaveLength(components.length);
      modelled.forEach((alternative, i) => {
        expect(Object.keys(alternative.properties)).toEqual(Object.keys(components[i]?.properties ?? {}));
        expect(alternative.required).toEqual(components[i]?.required);
        expect(alternative.additionalProperties).toBe(false);
      });
    }
  });
});
