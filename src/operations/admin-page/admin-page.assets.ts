import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';

/**
 * The admin page's files, committed in `public/admin/` (plain HTML, CSS and ES modules: no build step).
 * The same relative path reaches it from `src/operations/admin-page/` (tests) and from
 * `dist/operations/admin-page/` (the built service).
 */
export const ADMIN_PAGE_DIR = fileURLToPath(new URL('../../../public/admin/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  readonly name: string;
  readonly type: string;
  readonly body: Buffer;
  /** A strong validator of the content, for `If-None-Match`. */
  readonly etag: string;
}

/** The page (`index.html`) and its assets, read once at start-up (a few kilobytes) and served from memory. */
@Injectable()
export class AdminPageAssets {
  private readonly files: ReadonlyMap<string, Asset>;

  constructor() {
    this.files = load(ADMIN_PAGE_DIR);
    if (!this.files.has('index.html'))
      throw new Error(`the admin page is missing: no index.html in ${ADMIN_PAGE_DIR}`);
  }

  page(): Asset {
    return this.files.get('index.html')!;
  }

  /** An asset by file name (never a path: only the files of the folder are known); null when unknown. */
  asset(name: string): Asset | null {
    return name === 'index.html' ? null : (this.files.get(name) ?? null);
  }
}

function load(dir: string): Map<string, Asset> {
  const files = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || type === undefined) continue;
    const body = readFileSync(join(dir, entry.name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    files.set(entry.name, { name: entry.name, type, body, etag });
  }
  return files;
}
