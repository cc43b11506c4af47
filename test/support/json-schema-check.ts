/**
 * A small JSON Schema (2020-12) checker for the keywords the OpenAPI document uses, so a test can hold a real answer to
 * the schema a client generator reads, independently of the zod schema it was generated from. A keyword it does not
 * know is an error, never silently passed: a new keyword in the document means this checker must learn it first.
 */

type Schema = boolean | Record<string, unknown>;

const ANNOTATIONS = new Set(['description', 'title', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', '$comment', 'format']);
const KNOWN = new Set([
  ...ANNOTATIONS,
  '$ref',
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'anyOf',
  'oneOf',
  'allOf',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
]);

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(want: string, value: unknown): boolean {
  const got = typeOf(value);
  return want === got || (want === 'number' && got === 'integer');
}

/** Resolves a local `#/a/b` reference against the whole document. */
function resolve(root: unknown, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`unresolvable reference ${ref}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node as Schema;
}

/** The ways `value` breaks `schema` (empty when it conforms); `root` is the document `$ref`s point into. */
export function schemaErrors(schema: Schema, value: unknown, root: unknown, at = '$'): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${at}: no value is allowed here`];
  const unknown = Object.keys(schema).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0) throw new Error(`${at}: keywords this checker does not know: ${unknown.join(', ')}`);
  const errors: string[] = [];
  const s = schema as Record<string, any>;
  if (s.$ref !== undefined) errors.push(...schemaErrors(resolve(root, s.$ref), value, root, at));
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => typeMatches(t, value))) {
      return [...errors, `${at}: expected ${types.join(' or ')}, got ${typeOf(value)}`];
    }
  }
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value)) {
    errors.push(`${at}: expected ${JSON.stringify(s.const)}, got ${JSON.stringify(value)}`);
  }
  if (s.enum !== undefined && !(s.enum as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(s.enum)}`);
  }
  if (typeof value === 'string') {
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) {
      errors.push(`${at}: ${JSON.stringify(value)} does not match /${s.pattern}/`);
    }
    const length = [...value].length;
    if (s.minLength !== undefined && length < s.minLength) errors.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && length > s.maxLength) errors.push(`${at}: longer than ${s.maxLength}`);
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: ${value} < ${s.minimum}`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: ${value} > ${s.maximum}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) errors.push(`${at}: ${value} <= ${s.exclusiveMinimum}`);
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) errors.push(`${at}: ${value} >= ${s.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errors.push(`${at}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems) errors.push(`${at}: more than ${s.maxItems} items`);
    if (s.items !== undefined) value.forEach((v, i) => errors.push(...schemaErrors(s.items, v, root, `${at}[${i}]`)));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props: Record<string, Schema> = s.properties ?? {};
    for (const name of (s.required as string[] | undefined) ?? []) {
      if (!(name in obj)) errors.push(`${at}: missing required ${name}`);
    }
    for (const [name, v] of Object.entries(obj)) {
      const where = `${at}.${name}`;
      if (s.propertyNames !== undefined) errors.push(...schemaErrors(s.propertyNames, name, root, `${where} (name)`));
      if (name in props) errors.push(...schemaErrors(props[name]!, v, root, where));
      else if (s.additionalProperties !== undefined) {
        if (s.additionalProperties === false) errors.push(`${where}: not declared (additionalProperties: false)`);
        else errors.push(...schemaErrors(s.additionalProperties, v, root, where));
      }
    }
  }
  if (s.allOf !== undefined) for (const sub of s.allOf as Schema[]) errors.push(...schemaErrors(sub, value, root, at));
  if (s.anyOf !== undefined) {
    const branches = (s.anyOf as Schema[]).map((sub) => schemaErrors(sub, value, root, at));
    if (!branches.some((b) => b.length === 0)) {
      errors.push(`${at}: matches no anyOf branch (${branches.map((b) => b.join('; ')).join(' | ')})`);
    }
  }
  if (s.oneOf !== undefined) {
    const matching = (s.oneOf as Schema[]).filter((sub) => schemaErrors(sub, value, root, at).length === 0).length;
    if (matching !== 1) errors.push(`${at}: matches ${matching} oneOf branches, not exactly one`);
  }
  return errors;
}
