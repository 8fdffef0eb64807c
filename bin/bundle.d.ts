// Types for bin/bundle.js (plain JavaScript: it runs before any build).
import type { Script } from 'node:vm';

export const BUNDLE: string;
export function codeCacheFile(): string;
export function loadBundle(root: string): { exports: { runBundled(root: string, pjson: Record<string, unknown>, argv?: string[]): Promise<unknown> }; script: Script };
