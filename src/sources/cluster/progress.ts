// Progress on stderr for people watching a terminal: one status line rewritten in place, one summary line per
// resource. Silent when stderr is not a TTY (CI logs, pipes) or with -q.
import type { Writable } from 'node:stream';

export interface Progress {
  listing(resource: string): void;
  page(resource: string, items: number, page: number): void;
  retry(resource: string, cause: string, delayMs: number, attempt: number): void;
  done(resource: string, items: number, pages: number, note?: string): void;
  finish(summary: string): void;
}

export const silentProgress: Progress = { listing() {}, page() {}, retry() {}, done() {}, finish() {} };

export function makeProgress(stderr: Writable & { isTTY?: boolean }, quiet: boolean): Progress {
  if (quiet || !stderr.isTTY) return silentProgress;
  let statusShown = false;
  const status = (s: string) => {
    stderr.write(`\r\x1b[2K${s}`);
    statusShown = true;
  };
  const line = (s: string) => {
    stderr.write(`${statusShown ? '\r\x1b[2K' : ''}${s}\n`);
    statusShown = false;
  };
  return {
    listing: (r) => status(`listing ${r}…`),
    page: (r, n, p) => status(`listing ${r}… ${n} so far (page ${p})`),
    retry: (r, cause, d, a) => line(`  ${r}: ${cause}; retry ${a} in ${(d / 1000).toFixed(1)}s`),
    done: (r, n, p, note) => line(`  ${r}: ${n} (${p} page${p === 1 ? '' : 's'})${note ? ` — ${note}` : ''}`),
    finish: (s) => line(s),
  };
}
