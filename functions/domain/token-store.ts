/** API tokens, kept by their hash: what the authorizer looks up, and all it may read. */

export interface TokenRecord {
  /** SHA-256 of the token, hex. The token itself is never stored. */
  hash: string;
  project: string;
  createdAt: string;
  /** ISO time after which the token is refused; null = no expiry. */
  expiresAt: string | null;
  revoked: boolean;
  description?: string;
}

export interface TokenStore {
  put(token: TokenRecord): Promise<void>;
  get(hash: string): Promise<TokenRecord | null>;
  /** Tokens of one project (or of all), oldest first; hashes only. */
  list(project?: string): Promise<TokenRecord[]>;
  /** Marks a token revoked; false when no token has that hash. */
  revoke(hash: string): Promise<boolean>;
}
