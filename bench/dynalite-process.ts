/**
 * dynalite alone in its own process, with the service's table: the database half of the "floor"
 * diagnostic (floor.ts). It answers the driver with its endpoint and runs until killed.
 */
import { ensureTable, startLocalDynamoDb } from '../infra/local/dynamodb.ts';

const dynamodb = await startLocalDynamoDb({ port: 0, host: '127.0.0.1' });
await ensureTable(dynamodb.client);
process.send?.({ endpoint: dynamodb.endpoint });
// The driver's disconnect (or its death) ends this process: nothing here outlives the bench.
process.on('disconnect', () => {
  void dynamodb.stop().finally(() => process.exit(0));
});
