/** The per-project keys webhooks are signed with. */
export interface WebhookSecretStore {
  /** The project's signing secret, made on first use (concurrent first uses agree on one). */
  secretOf(project: string): Promise<string>;
}
