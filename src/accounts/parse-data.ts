import type { z } from 'zod';
import { ValidationError, type FieldError, type FieldErrors } from './account-errors.js';

/**
 * Validates the `data` object of a request against a schema and turns zod's issues into the field-error shape
 * `{"<field>": {"<rule>": {message, target}}}` with dotted field names (`sip.username`). Rule names follow the
 * JSON-schema keywords the platform's clients know: required, type, minLength, maxLength, pattern, enum.
 */
export function parseData<S extends z.ZodType>(schema: S, data: unknown): z.output<S> {
  if (data === undefined || data === null) {
    throw ValidationError.one('data', 'required', 'Field is required but missing');
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw ValidationError.one('data', 'type', 'Value must be of type object', 'object');
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const fields: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = issue.path.length === 0 ? 'data' : issue.path.map(String).join('.');
    const [rule, error] = describe(issue, valueAt(data, issue.path));
    (fields[field] ??= {})[rule] ??= error;
  }
  throw new ValidationError(fields);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describe(issue: z.core.$ZodIssue, value: unknown): [string, FieldError] {
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return ['required', { message: 'Field is required but missing', target: 'required' }];
      return ['type', { message: `Value must be of type ${issue.expected}`, target: String(issue.expected) }];
    case 'too_small':
      return ['minLength', { message: `Value must be at least ${String(issue.minimum)} characters`, target: String(issue.minimum) }];
    case 'too_big':
      return ['maxLength', { message: `Value must be at most ${String(issue.maximum)} characters`, target: String(issue.maximum) }];
    case 'invalid_format': {
      // The target is the pattern as JSON schema (and the OpenAPI document) write it: the bare regex source.
      const pattern = 'pattern' in issue && issue.pattern ? String(issue.pattern).replace(/^\/(.*)\/[a-z]*$/s, '$1') : issue.format;
      return ['pattern', { message: 'Value does not match the expected format', target: pattern }];
    }
    case 'invalid_value':
      return ['enum', { message: `Value must be one of ${issue.values.map(String).join(', ')}`, target: issue.values.map(String).join('|') }];
    default:
      return ['invalid', { message: issue.message, target: 'invalid' }];
  }
}
