/**
 * The port for the configuration container's inputs passed by reference. ECS caps a RunTask's
 * overrides at 8 KiB in all, which the inventory of a few tens of nodes exceeds, so a deployment
 * that has a place for them (S3 on AWS) stores the documents there and hands the container
 * their URIs instead; run-profile.sh fetches them before it runs.
 */
export interface ConfigurationInputs {
  /**
   * Stores `body` under `key`, replacing what is there (a retried step writes the same
   * document again), and answers the URI the container fetches it from.
   */
  put(key: string, body: string): Promise<string>;
  /** The URI `put(key)` answers, without writing: a later step finds what an earlier one stored. */
  uriOf(key: string): string;
}
