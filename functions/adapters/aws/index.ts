/** What every AWS adapter shares: the one classifier of AWS SDK errors. */
export { awsError, errorName, type AwsErrorMapping, type SdkError } from './errors.ts';
