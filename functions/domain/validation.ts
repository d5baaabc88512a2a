/** zod's issues in the terms of the error envelope: one detail per offending field. */
import type { z } from 'zod';
import type { ErrorDetail } from './errors.ts';

const valueAt = (input: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), input);

/** zod issues as envelope details, one per offending field; `input` tells a missing field from a bad one. */
export const issuesToDetails = (issues: readonly z.core.$ZodIssue[], input?: unknown): ErrorDetail[] =>
  issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: base ? `${base}.${key}` : key, message: 'is not a known field' }));
    }
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
    return [{ path: base || '(body)', message: missing ? 'is required' : issue.message }];
  });
