// What every write takes and returns, and the timestamps it stamps: shared by cluster.ts and the modules it hands
// parts of a write to (admission, deletion, scale, handlers), in a module of their own so none imports cluster.ts
// for them.

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldManager: string | undefined;
  /** Used as the default field manager (the User-Agent up to the first `/`). */
  userAgent: string;
  fieldValidation: FieldValidation;
  force: boolean;
}

export interface WriteResult {
  object: any;
  /** 200 or 201. */
  code: number;
  warnings: string[];
}

/** A metadata timestamp as the API server writes it: RFC 3339, whole seconds. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
