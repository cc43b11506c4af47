// Types for scripts/build-if-stale.mjs (plain JavaScript: it runs before anything is compiled).
export declare const OUTPUTS: readonly string[];
export declare const INPUT_DIRS: readonly string[];
export declare const INPUT_FILES: readonly string[];
export declare function newestInput(root: string): { path: string; mtimeMs: number };
export declare function isStale(root: string): { stale: boolean; reason: string };
export declare function buildIfStale(root: string): number;
