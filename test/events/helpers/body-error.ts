/** The shape tap's `t.throws` should find for an EventBodyError with this status (RFC 3903 §6: 400 or 415). */
export function bodyError(status: 400 | 415, message: RegExp): { name: string; status: number; message: RegExp } {
  return { name: 'EventBodyError', status, message };
}
