/**
 * The service's functions, one for each entry of `FUNCTIONS` in infra/routes.ts, each bound to the
 * table with the access its entry gives; and the lookups the stack wires them by, read from the
 * same entries rather than from lists of names.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { FUNCTIONS, type ConfigurationContainerFunctionName, type FunctionDefinition, type FunctionName, type FunctionSetting } from '../../routes.ts';
import { pascalCase, ResourceGroup } from '../logical-ids.ts';
import { ServiceFunction } from './service-function.ts';

/** The functions by name: those that need the configuration container exist only with it. */
export type FunctionsByName = Readonly<
  Record<Exclude<FunctionName, ConfigurationContainerFunctionName>, ServiceFunction> & Partial<Record<ConfigurationContainerFunctionName, ServiceFunction>>
>;

export interface ServiceFunctionsProps {
  readonly table: dynamodb.ITable;
  /**
   * Whether the stack has the configuration container; a function that reads its logs would
   * otherwise only be something to patch and pay for.
   *
   * @default false
   */
  readonly hasConfigurationContainer?: boolean;
  /**
   * How long each function's log group keeps its events.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];
const definitionOf = (name: FunctionName): FunctionDefinition => FUNCTIONS[name];

export class ServiceFunctions extends ResourceGroup {
  public readonly byName: FunctionsByName;

  public constructor(scope: Construct, id: string, props: ServiceFunctionsProps) {
    super(scope, id);
    this.byName = Object.fromEntries(
      FUNCTION_NAMES.flatMap((name) => {
        const definition = definitionOf(name);
        if (definition.readsConfigurationLogs && !props.hasConfigurationContainer) return [];
        const fn = new ServiceFunction(this, `${pascalCase(name)}Function`, {
          entry: definition.entry,
          description: definition.description,
          timeout: Duration.seconds(definition.timeoutSeconds),
          logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        });
        fn.bindTable({ table: props.table, accessMode: definition.tableAccess, actions: definition.tableActions?.actions, indexNames: definition.tableActions?.indexes });
        return [[name, fn] as const];
      }),
    ) as FunctionsByName;
  }

  /** Each function with its name and definition, in the table's order. */
  public entries(): { readonly name: FunctionName; readonly definition: FunctionDefinition; readonly fn: ServiceFunction }[] {
    return FUNCTION_NAMES.flatMap((name) => {
      const fn = this.byName[name];
      return fn ? [{ name, definition: definitionOf(name), fn }] : [];
    });
  }

  /** The functions whose definition passes `test`, in the table's order. */
  public where(test: (definition: FunctionDefinition) => boolean | undefined): ServiceFunction[] {
    return this.entries()
      .filter(({ definition }) => test(definition))
      .map(({ fn }) => fn);
  }

  /** The functions whose definition lists `setting`. */
  public withSetting(setting: FunctionSetting): ServiceFunction[] {
    return this.where((definition) => definition.settings?.includes(setting));
  }

  /** The one function whose definition passes `test`; `what` names the test when not exactly one does. */
  public theOne(what: string, test: (definition: FunctionDefinition) => boolean | undefined): ServiceFunction {
    const found = this.where(test);
    if (found.length !== 1 || !found[0]) throw new Error(`exactly one function of infra/routes.ts must have ${what}; ${found.length} do`);
    return found[0];
  }

  /** Sets `variables` on every function that lists `setting`. */
  public setVariables(setting: FunctionSetting, variables: Readonly<Record<string, string>>): void {
    for (const fn of this.withSetting(setting)) for (const [variable, value] of Object.entries(variables)) fn.addEnvironment(variable, value);
  }
}
