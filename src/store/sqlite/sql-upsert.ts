/**
 * Builds `INSERT … ON CONFLICT(key) DO UPDATE` for a table whose statement parameters are named after its columns.
 * An upsert rather than INSERT OR REPLACE: REPLACE deletes and re-inserts, churning every index for each refresh.
 */
export function upsertSql(table: string, columns: readonly string[], key: readonly string[]): string {
  const updates = columns.filter((c) => !key.includes(c)).map((c) => `${c} = excluded.${c}`);
  return (
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => '@' + c).join(', ')}) ` +
    `ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`
  );
}
