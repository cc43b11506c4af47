import type { MailboxRecord } from '../records.js';
import type { KeyedTableSpec } from './sqlite-keyed.js';

interface MailboxRow {
  mailbox: string;
  new_messages: number;
  old_messages: number;
  urgent_new: number;
  urgent_old: number;
  updated_at: number;
}

export const mailboxesTable: KeyedTableSpec<MailboxRecord, MailboxRow> = {
  table: 'mailboxes',
  keyColumn: 'mailbox',
  columns: ['mailbox', 'new_messages', 'old_messages', 'urgent_new', 'urgent_old', 'updated_at'],
  keyOf: (r) => r.mailbox,
  toRow: (r) => ({
    mailbox: r.mailbox,
    new_messages: r.newMessages,
    old_messages: r.oldMessages,
    urgent_new: r.urgentNew,
    urgent_old: r.urgentOld,
    updated_at: r.updatedAt,
  }),
  fromRow: (row) => ({
    mailbox: row.mailbox,
    newMessages: row.new_messages,
    oldMessages: row.old_messages,
    urgentNew: row.urgent_new,
    urgentOld: row.urgent_old,
    updatedAt: row.updated_at,
  }),
};
