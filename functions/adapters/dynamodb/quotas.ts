/** Each project's quota in the service's table: usage counters and the project's own limits, one item. */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { QuotaExceeded, VersionConflict } from '#domain/errors';
import { QUOTA_RESOURCES, type QuotaAmounts, type QuotaRecord, type QuotaResource, type QuotaStore } from '#domain/quota-store';
import { isConditionFailure, MAX_CONDITIONAL_ATTEMPTS, type DynamoDbTable } from './client.ts';
import { ITEM_TYPES, quotaKey, quotaOf } from './table-schema.ts';

/** Placeholders for the quota attributes (some are DynamoDB reserved words). */
const QUOTA_NAMES = Object.fromEntries(QUOTA_RESOURCES.map((r) => [`#${r}`, r]));

export class DynamoDbQuotaStore implements QuotaStore {
  constructor(private readonly table: DynamoDbTable) {}

  async get(project: string): Promise<QuotaRecord> {
    const { Item } = await this.table.doc.send(new GetCommand({ TableName: this.table.name, Key: quotaKey(project), ConsistentRead: true }));
    return quotaOf(Item);
  }

  async reserve(project: string, amounts: QuotaAmounts, limits: QuotaAmounts): Promise<void> {
    const over = QUOTA_RESOURCES.filter((resource) => amounts[resource] > limits[resource]);
    if (over.length === 0) {
      try {
        // DynamoDB conditions cannot add: compare the current usage with limit − amount instead.
        await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: quotaKey(project),
            UpdateExpression: 'ADD #vcpus :vcpus, #servers :servers, #clusters :clusters SET #type = :type',
            ConditionExpression: QUOTA_RESOURCES.map((r) => `(attribute_not_exists(#${r}) OR #${r} <= :max_${r})`).join(' AND '),
            ExpressionAttributeNames: { '#type': 'type', ...QUOTA_NAMES },
            ExpressionAttributeValues: {
              ':type': ITEM_TYPES.quota,
              ...Object.fromEntries(QUOTA_RESOURCES.map((r) => [`:${r}`, amounts[r]])),
              ...Object.fromEntries(QUOTA_RESOURCES.map((r) => [`:max_${r}`, limits[r] - amounts[r]])),
            },
          }),
        );
        return;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    const { usage } = await this.get(project);
    const exceeded = QUOTA_RESOURCES.filter((r) => usage[r] + amounts[r] > limits[r]);
    const named = exceeded.length > 0 ? exceeded : over;
    throw new QuotaExceeded(
      `the project's quota would be exceeded: ${named.map((r) => `${r} (using ${usage[r]}, asking ${amounts[r]}, limit ${limits[r]})`).join(', ')}`,
      named.map((r) => ({ path: r, message: `using ${usage[r]} of ${limits[r]}; this request needs ${amounts[r]}` })),
    );
  }

  async release(project: string, amounts: QuotaAmounts): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.name,
        Key: quotaKey(project),
        UpdateExpression: 'ADD #vcpus :vcpus, #servers :servers, #clusters :clusters',
        ExpressionAttributeNames: QUOTA_NAMES,
        ExpressionAttributeValues: Object.fromEntries(QUOTA_RESOURCES.map((r) => [`:${r}`, -amounts[r]])),
      }),
    );
  }

  async setLimits(project: string, limits: Partial<QuotaAmounts>, reset: readonly QuotaResource[] = []): Promise<QuotaRecord> {
    const set = QUOTA_RESOURCES.filter((r) => limits[r] !== undefined);
    const removed = QUOTA_RESOURCES.filter((r) => reset.includes(r));
    const both = set.filter((r) => removed.includes(r));
    if (both.length > 0) throw new Error(`a quota limit cannot be both set and reset: ${both.join(', ')}`);
    const names = (resources: readonly QuotaResource[]) => Object.fromEntries(resources.map((r) => [`#${r}`, r]));

    // DynamoDB cannot SET a path inside a map that does not exist, nor make the map and a path in
    // it in one expression (the paths overlap). So: change just the named entries of an existing
    // map; where there is none, write the map whole on condition that there still is none. A
    // writer slipping in between fails the other's condition, and the loop goes round again.
    for (let attempt = 1; ; attempt++) {
      try {
        const clauses = [`SET ${[...set.map((r) => `#limits.#${r} = :${r}`), '#type = :type'].join(', ')}`];
        if (removed.length > 0) clauses.push(`REMOVE ${removed.map((r) => `#limits.#${r}`).join(', ')}`);
        const { Attributes } = await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: quotaKey(project),
            UpdateExpression: clauses.join(' '),
            ConditionExpression: 'attribute_type(#limits, :map)',
            ExpressionAttributeNames: { '#limits': 'limits', '#type': 'type', ...names([...set, ...removed]) },
            ExpressionAttributeValues: { ':map': 'M', ':type': ITEM_TYPES.quota, ...Object.fromEntries(set.map((r) => [`:${r}`, limits[r]])) },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return quotaOf(Attributes);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      // No map, so nothing to remove; a reset alone changes nothing.
      if (set.length === 0) return this.get(project);
      try {
        const { Attributes } = await this.table.doc.send(
          new UpdateCommand({
            TableName: this.table.name,
            Key: quotaKey(project),
            UpdateExpression: 'SET #limits = :limits, #type = :type',
            ConditionExpression: 'NOT attribute_type(#limits, :map)',
            ExpressionAttributeNames: { '#limits': 'limits', '#type': 'type' },
            ExpressionAttributeValues: { ':limits': Object.fromEntries(set.map((r) => [r, limits[r]])), ':map': 'M', ':type': ITEM_TYPES.quota },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return quotaOf(Attributes);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        if (attempt >= MAX_CONDITIONAL_ATTEMPTS) throw new VersionConflict(`the quota of project ${project} keeps changing; gave up after ${attempt} attempts`);
      }
    }
  }
}
