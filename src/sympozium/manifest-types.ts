import type { Document } from 'yaml';

// The shapes shared by manifests.ts (reading files) and manifest-parse.ts (turning bytes into documents), in a
// module of their own so that the two do not import each other.

export interface Position {
  line: number;
  column: number;
}

export type PathSegment = string | number;

/** Finds where a path of a document sits in its file. */
export interface Locator {
  /** The key (for unknown fields) or the value (everything else) at the path, else its nearest ancestor. */
  position(segments: PathSegment[], at: 'key' | 'value'): Position;
  /** The source text of the scalar at the path when it was written unquoted, so YAML 1.1 traps can be spotted. */
  plainScalar(segments: PathSegment[]): string | undefined;
}

export interface ManifestDocument {
  /** File path as the user gave it (joined for files found in a directory), or "<stdin>". */
  source: string;
  /** The document's place in its file, counting from 0 (empty documents count too). */
  index: number;
  line: number;
  column: number;
  object: Record<string, unknown>;
  /** Positions inside the document; absent for objects that did not come from a file. */
  locate?: Locator;
  /** The parsed YAML document (nodes with their source ranges), for edits in place (`sympozium migrate`). */
  yaml?: Document.Parsed;
}

export interface Problem {
  source: string;
  line: number;
  column: number;
  /** Where in the document, e.g. spec.authRefs[0].secret; empty for the file or document as a whole. */
  path: string;
  message: string;
  severity: 'error' | 'note';
  /** The Sympozium release whose CRDs judged the document, for Sympozium kinds. */
  release?: string;
  /** Set when the document is well-formed YAML but not a Kubernetes object (a list, a scalar). */
  code?: 'not-an-object';
  /**
   * For a note that an object the document names is missing from the cluster: the objects (batchKey) any one
   * of which, found among the documents of the same command, answers it. Read files one at a time, a later file
   * can still hold it; answeredNotes() drops such notes at the end and this field with them.
   */
  refersTo?: string[];
}
