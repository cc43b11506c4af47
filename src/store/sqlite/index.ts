export { SqliteStore, openSqliteStore, storeStartError, SQLITE_FILE_NAME, type SqliteStoreOptions } from './sqlite-store.js';
export { migrations, type Migration } from './migrations.js';
