export { MemoryStore, createMemoryStore } from './memory-store.js';
