import type { JsonValue, ManualState, ResourceStateRecord } from '../records.js';
import type { KeyedTableSpec } from './sqlite-keyed.js';

interface ResourceStateRow {
  resource: string;
  manual_state: ManualState | null;
  history: string;
  updated_at: number;
}

export const resourceStatesTable: KeyedTableSpec<ResourceStateRecord, ResourceStateRow> = {
  table: 'resource_states',
  keyColumn: 'resource',
  columns: ['resource', 'manual_state', 'history', 'updated_at'],
  keyOf: (r) => r.resource,
  toRow: (r) => ({
    resource: r.resource,
    manual_state: r.manualState,
    history: JSON.stringify(r.history),
    updated_at: r.updatedAt,
  }),
  fromRow: (row) => ({
    resource: row.resource,
    manualState: row.manual_state,
    history: JSON.parse(row.history) as JsonValue,
    updatedAt: row.updated_at,
  }),
};
