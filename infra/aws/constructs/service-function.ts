import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcards } from '../nag.ts';

/** The repository root: handler entries, the lock file and package.json `imports` resolve from here. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Item-level reads; a `read` binding may narrow to these and nothing else. */
const READ_ACTIONS = new Set([
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:Scan',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
]);

export type TableAccessMode = 'read' | 'readWrite';

export interface BindTableProps {
  readonly table: dynamodb.ITable;
  readonly accessMode: TableAccessMode;
  /**
   * Narrows the grant to exactly these actions on the table (and on `indexNames`), for a
   * function whose reach is smaller than its access mode. A `read` binding refuses write actions.
   *
   * @default - every data action of the access mode, on the table and all its indexes
   */
  readonly actions?: readonly string[];
  /**
   * Indexes the narrowed `actions` also apply to; ignored without `actions`.
   *
   * @default - none: the narrowed grant covers the table alone
   */
  readonly indexNames?: readonly string[];
}

export interface ServiceFunctionProps
  extends Omit<
    NodejsFunctionProps,
    'entry' | 'handler' | 'runtime' | 'architecture' | 'tracing' | 'logGroup' | 'role' | 'timeout' | 'projectRoot' | 'depsLockFilePath'
  > {
  /** Handler source, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /**
   * How long Lambda lets one invocation run.
   *
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * How long the function's log group keeps its events.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Powertools logger level (`LOG_LEVEL`).
   *
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * Every function of the service: Node.js 22 on ARM64, X-Ray tracing, its own log group with a
 * retention and a role that may write to that group alone, and an ESM bundle with source maps
 * built by the local esbuild.
 */
export class ServiceFunction extends NodejsFunction {
  /** Always set: the constructor has a default. */
  public declare readonly timeout: Duration;

  public constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const { entry, logRetention, logLevel, environment, bundling, timeout, ...rest } = props;
    // The log group must exist before `super`, so it is a sibling of the function, not a child.
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      retention: logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    // Instead of AWSLambdaBasicExecutionRole, which lets a function make and write any log group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        logs: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] })],
        }),
      },
    });

    super(scope, id, {
      ...rest,
      entry: path.join(REPO_ROOT, entry),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: timeout ?? Duration.seconds(10),
      logGroup,
      role,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'cluster-service',
        LOG_LEVEL: logLevel ?? 'INFO',
        // Stack traces point into the TypeScript sources rather than the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
        ...environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        sourceMap: true,
        minify: true,
        // Error class names are error codes: Step Functions' Retry/Catch and the API envelope match on them.
        keepNames: true,
        // Prefer packages' ESM builds, so the bundle tree-shakes and needs no CJS interop.
        mainFields: ['module', 'main'],
        // CJS dependencies bundled into an ESM file still call `require`; ESM has none of its own.
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        ...bundling,
      },
    });
    acknowledge(this, 'L1', 'Node.js 22 (nodejs22.x) is the runtime the service is built and tested for: bundles target node22, local mode and the tests run on Node 22, and a newer runtime is a change of its own, made with the toolchain');
    acknowledge(role, 'IAM5[Resource::*]', 'X-Ray tracing: xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets take no resource');
  }

  /** Grants the table access and sets `TABLE_NAME`: the variable never exists without the permission. */
  public bindTable({ table, accessMode, actions, indexNames }: BindTableProps): void {
    this.addEnvironment('TABLE_NAME', table.tableName);
    if (!actions) {
      const grant = accessMode === 'readWrite' ? table.grantReadWriteData(this) : table.grantReadData(this);
      if (this.role) {
        acknowledgeWildcards(this.role, grant.principalStatements, 'the indexes of this one table (it has one, byProject): a function with the whole access mode may query them as it may the table');
      }
      return;
    }
    const writes = accessMode === 'read' ? actions.filter((action) => !READ_ACTIONS.has(action)) : [];
    if (writes.length > 0) {
      throw new Error(`${this.node.path}: a read binding cannot grant ${writes.join(', ')}`);
    }
    iam.Grant.addToPrincipal({
      grantee: this,
      actions: [...actions],
      resourceArns: [table.tableArn, ...(indexNames ?? []).map((name) => `${table.tableArn}/index/${name}`)],
    });
  }
}
