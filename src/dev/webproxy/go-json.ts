/**
 * Just enough of Go's encoding/json to answer a malformed request with the very text upstream's proxy sends:
 * its handlers decode with `json.NewDecoder(r.Body).Decode(&req)` and put `err.Error()` in the 400
 * (internal/webproxy/openai.go "invalid request: ", mcp.go "invalid JSON-RPC request: "), so a client sees Go's
 * scanner and UnmarshalTypeError messages. Followed here (Go 1.22+ encoding/json, stream.go readValue, scanner.go,
 * decode.go):
 *
 * - Decoder.Decode reads one value and ignores what follows it; nothing but space is "EOF", a value cut short is
 *   "unexpected EOF", a bad byte is `invalid character 'x' <where>` (scanner.go's contexts, quoteChar's quoting);
 * - then the value is stored: a JSON type that does not fit the Go field is remembered (the first one only) and
 *   reported as `json: cannot unmarshal <json type> into Go struct field <Struct>.<json path> of type <Go type>`
 *   (or `into Go value of type ...` at the top); null fits everything; keys match fields case-insensitively,
 *   unknown keys are ignored, the last duplicate wins.
 *
 * Values keep their raw text, because a json.RawMessage (the JSON-RPC id) is echoed back byte for byte.
 */

export type GoValue =
  | { kind: 'object'; raw: string; entries: [string, GoValue][] }
  | { kind: 'array'; raw: string; items: GoValue[] }
  | { kind: 'string'; raw: string; value: string }
  | { kind: 'number'; raw: string }
  | { kind: 'bool'; raw: string; value: boolean }
  | { kind: 'null'; raw: string };

export class GoJsonError extends Error {}

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** scanner.go quoteChar: the offending byte as Go prints it (a byte is read as the rune of the same value). */
function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const escapes: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v', 0x5c: '\\\\' };
  if (escapes[c]) return `'${escapes[c]}'`;
  if (c < 0x20 || c === 0x7f) return `'\\x${c.toString(16).padStart(2, '0')}'`;
  if (c >= 0x80 && c < 0xa0) return `'\\u${c.toString(16).padStart(4, '0')}'`;
  if (c === 0xad) return `'\\u00ad'`;
  return `'${String.fromCodePoint(c)}'`;
}

class Scanner {
  private pos = 0;
  constructor(private readonly bytes: Buffer) {}

  private fail(context: string): never {
    if (this.pos >= this.bytes.length) throw new GoJsonError('unexpected EOF');
    throw new GoJsonError(`invalid character ${quoteChar(this.bytes[this.pos]!)} ${context}`);
  }

  private peek(): number | undefined {
    return this.bytes[this.pos];
  }

  private skipSpace(): void {
    while (this.pos < this.bytes.length && isSpace(this.bytes[this.pos]!)) this.pos++;
  }

  /** Decoder.Decode: one value from the start, what follows it ignored. */
  top(): GoValue {
    this.skipSpace();
    if (this.pos >= this.bytes.length) throw new GoJsonError('EOF');
    return this.value();
  }

  private raw(start: number): string {
    return this.bytes.subarray(start, this.pos).toString('utf8');
  }

  private value(): GoValue {
    const start = this.pos;
    const c = this.peek();
    if (c === 0x7b) return this.object(start);
    if (c === 0x5b) return this.array(start);
    if (c === 0x22) {
      const value = this.string();
      return { kind: 'string', raw: this.raw(start), value };
    }
    if (c === 0x2d || (c !== undefined && isDigit(c))) {
      this.number();
      return { kind: 'number', raw: this.raw(start) };
    }
    if (c === 0x74) return this.literal('true', start);
    if (c === 0x66) return this.literal('false', start);
    if (c === 0x6e) return this.literal('null', start);
    return this.fail('looking for beginning of value');
  }

  private literal(word: 'true' | 'false' | 'null', start: number): GoValue {
    for (let index = 0; index < word.length; index++) {
      if (this.peek() !== word.charCodeAt(index)) this.fail(`in literal ${word} (expecting '${word[index]}')`);
      this.pos++;
    }
    return word === 'null' ? { kind: 'null', raw: word } : { kind: 'bool', raw: this.raw(start), value: word === 'true' };
  }

  private number(): void {
    if (this.peek() === 0x2d) {
      this.pos++;
      if (!isDigit(this.peek() ?? -1)) this.fail('in numeric literal');
    }
    if (this.peek() === 0x30) this.pos++;
    else while (isDigit(this.peek() ?? -1)) this.pos++;
    if (this.peek() === 0x2e) {
      this.pos++;
      if (!isDigit(this.peek() ?? -1)) this.fail('after decimal point in numeric literal');
      while (isDigit(this.peek() ?? -1)) this.pos++;
    }
    if (this.peek() === 0x65 || this.peek() === 0x45) {
      this.pos++;
      if (this.peek() === 0x2b || this.peek() === 0x2d) this.pos++;
      if (!isDigit(this.peek() ?? -1)) this.fail('in exponent of numeric literal');
      while (isDigit(this.peek() ?? -1)) this.pos++;
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('in string literal');
      if (c === 0x22) break;
      if (c < 0x20) this.fail('in string literal');
      if (c === 0x5c) {
        this.pos++;
        const e = this.peek();
        if (e === 0x75) {
          this.pos++;
          for (let index = 0; index < 4; index++) {
            const h = this.peek() ?? -1;
            if (!(isDigit(h) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) this.fail('in \\u hexadecimal character escape');
            this.pos++;
          }
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(e))) this.fail('in string escape code');
      }
      this.pos++;
    }
    this.pos++;
    // The scanner has checked it; JSON.parse turns the escapes into the text Go would store.
    return JSON.parse(this.raw(start)) as string;
  }

  private object(start: number): GoValue {
    this.pos++;
    const entries: [string, GoValue][] = [];
    this.skipSpace();
    if (this.peek() === 0x7d) {
      this.pos++;
      return { kind: 'object', raw: this.raw(start), entries };
    }
    for (;;) {
      this.skipSpace();
      if (this.peek() !== 0x22) this.fail('looking for beginning of object key string');
      const key = this.string();
      this.skipSpace();
      if (this.peek() !== 0x3a) this.fail('after object key');
      this.pos++;
      this.skipSpace();
      entries.push([key, this.value()]);
      this.skipSpace();
      if (this.peek() === 0x2c) {
        this.pos++;
        continue;
      }
      if (this.peek() === 0x7d) {
        this.pos++;
        return { kind: 'object', raw: this.raw(start), entries };
      }
      this.fail('after object key:value pair');
    }
  }

  private array(start: number): GoValue {
    this.pos++;
    const items: GoValue[] = [];
    this.skipSpace();
    if (this.peek() === 0x5d) {
      this.pos++;
      return { kind: 'array', raw: this.raw(start), items };
    }
    for (;;) {
      this.skipSpace();
      items.push(this.value());
      this.skipSpace();
      if (this.peek() === 0x2c) {
        this.pos++;
        continue;
      }
      if (this.peek() === 0x5d) {
        this.pos++;
        return { kind: 'array', raw: this.raw(start), items };
      }
      this.fail('after array element');
    }
  }
}

/** `json.NewDecoder(body).Decode(...)`'s syntax pass: the first value of the body, or Go's error. */
export function goDecode(body: Buffer): GoValue {
  return new Scanner(body).top();
}

/** `json.Unmarshal(raw, ...)`'s syntax pass for a RawMessage the handler decodes again (nil is an error). */
export function goUnmarshalRaw(raw: string | undefined): GoValue {
  if (raw === undefined || raw.trim() === '') throw new GoJsonError('unexpected end of JSON input');
  return new Scanner(Buffer.from(raw)).top();
}

/** The Go type a field is decoded into, as its UnmarshalTypeError names it. */
export type GoType =
  | { go: 'string' }
  | { go: 'bool' }
  | { go: 'raw' }
  | { go: 'struct'; name: string; fields: Record<string, GoType> }
  | { go: 'slice'; name: string; of: GoType };

function goTypeName(type: GoType): string {
  if (type.go === 'struct' || type.go === 'slice') return type.name;
  if (type.go === 'raw') return 'json.RawMessage';
  return type.go;
}

const jsonKind = (value: GoValue) => (value.kind === 'bool' ? 'bool' : value.kind);

/**
 * Stores `value` into `type` the way decode.go does and returns the result (plain JS: strings, booleans,
 * arrays, objects keyed by the field's JSON name, raw text for RawMessage); throws the first type error.
 */
export function goStore(value: GoValue, type: GoType & { go: 'struct' }): Record<string, unknown> {
  let first: GoJsonError | undefined;
  const save = (found: GoValue, into: GoType, struct: string | undefined, path: string[]) => {
    if (first) return;
    first = new GoJsonError(
      struct
        ? `json: cannot unmarshal ${jsonKind(found)} into Go struct field ${struct}.${path.join('.')} of type ${goTypeName(into)}`
        : `json: cannot unmarshal ${jsonKind(found)} into Go value of type ${goTypeName(into)}`,
    );
  };
  const store = (found: GoValue, into: GoType, struct: string | undefined, path: string[]): unknown => {
    if (into.go === 'raw') return found.raw;
    if (found.kind === 'null') return undefined;
    if (into.go === 'string') return found.kind === 'string' ? found.value : save(found, into, struct, path);
    if (into.go === 'bool') return found.kind === 'bool' ? found.value : save(found, into, struct, path);
    if (into.go === 'slice') {
      if (found.kind !== 'array') return save(found, into, struct, path);
      return found.items.map((item) => store(item, into.of, struct, path) ?? {});
    }
    if (found.kind !== 'object') return save(found, into, struct, path);
    const result: Record<string, unknown> = {};
    const names = Object.keys(into.fields);
    for (const [key, item] of found.entries) {
      // decode.go: an exact match first, else a case-insensitive one.
      const name = names.find((field) => field === key) ?? names.find((field) => field.toLowerCase() === key.toLowerCase());
      if (!name) continue;
      const stored = store(item, into.fields[name]!, into.name.replace(/^.*\./, ''), [...path, name]);
      if (stored !== undefined) result[name] = stored;
      else if (item.kind === 'null' && into.fields[name]!.go === 'slice') delete result[name];
    }
    return result;
  };
  const result = store(value, type, undefined, []);
  if (first) throw first;
  return (result ?? {}) as Record<string, unknown>;
}

/**
 * json.Marshal's text for a value built in Go's field order (maps must be built with sorted keys by the caller):
 * JSON.stringify, then the HTML-safe escapes Go's encoder applies (<, >, &, U+2028, U+2029).
 */
export function goMarshal(value: unknown): string {
  return escapeHtml(JSON.stringify(value));
}

function escapeHtml(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** json.Marshal of a RawMessage: compacted (space outside strings dropped), HTML-escaped. */
export function compactRaw(raw: string): string {
  let out = '';
  let inString = false;
  for (let index = 0; index < raw.length; index++) {
    const c = raw[index]!;
    if (inString) {
      out += c;
      if (c === '\\') out += raw[++index] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!' \t\n\r'.includes(c)) out += c;
  }
  return escapeHtml(out);
}
