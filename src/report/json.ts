// `-o json`: the ScanResult as is (stable field names; see README "JSON output"). Nothing else goes to stdout.
//
// At 150,000 pods the report is ~440 MB: building it as one string (and encoding that string to UTF-8 in one
// piece) cost more than half of a scan's CPU and ~1.7 GB of memory. `writeJson` produces the same bytes as
// `renderJson`, one array element at a time, in chunks of about 1 MB, and waits for the stream to drain, so
// memory stays flat whatever the size of the report.
import { fstatSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ScanResult } from '../analysis/types.ts';

export function renderJson(result: ScanResult): string {
  return JSON.stringify(result, null, 2) + '\n';
}

const CHUNK = 1 << 20;

/**
 * The descriptor behind `out` when writing to it synchronously is safe and cheaper: a regular file or a
 * character device (`> report.json`, `/dev/null`). Pipes and sockets keep the stream (they can be non-blocking).
 */
function syncFd(out: Writable): number | undefined {
  const fd = (out as { fd?: unknown }).fd;
  if (typeof fd !== 'number' || (out as { writableLength?: number }).writableLength) return undefined;
  try {
    const st = fstatSync(fd);
    return st.isFile() || st.isCharacterDevice() ? fd : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `renderJson(result)` byte for byte, streaming top-level arrays element by element. */
export async function writeJson(result: ScanResult, out: Writable): Promise<void> {
  let buf = '';
  // To a file or device: encode every chunk into one reused buffer (a fresh buffer per chunk costs a page
  // fault per 4 KiB: ~0.5 s per 400 MB of report on a virtual machine).
  const fd = syncFd(out);
  const bytes = fd === undefined ? undefined : Buffer.allocUnsafe(3 * CHUNK + 64 * 1024);
  const flush = async (force: boolean): Promise<void> => {
    if (!force && buf.length < CHUNK) return;
    if (!buf) return;
    if (fd !== undefined && bytes !== undefined && buf.length * 3 <= bytes.length) {
      const n = bytes.write(buf, 0);
      buf = '';
      for (let off = 0; off < n; ) off += writeSync(fd, bytes, off, n - off);
      return;
    }
    const ok = out.write(buf);
    buf = '';
    if (!ok) await new Promise<void>((resolve, reject) => {
      const onDrain = () => { out.off('error', onError); resolve(); };
      const onError = (e: Error) => { out.off('drain', onDrain); reject(e); };
      out.once('drain', onDrain);
      out.once('error', onError);
    });
  };
  // Same key order and omissions as JSON.stringify: own enumerable keys, undefined/function values dropped.
  const entries = Object.entries(result).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  buf += '{';
  for (let i = 0; i < entries.length; i++) {
    const [key, value] = entries[i]!;
    buf += `${i ? ',' : ''}\n  ${JSON.stringify(key)}: `;
    const plain = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
    if (Array.isArray(plain) && plain.length > 0) {
      buf += '[';
      for (let j = 0; j < plain.length; j++) {
        // An element at depth 2 of `JSON.stringify(x, null, 2)` is its own stringify, indented by 4 spaces;
        // undefined and functions become null inside arrays, as JSON.stringify does.
        const el = JSON.stringify(plain[j], null, 2) ?? 'null';
        buf += `${j ? ',' : ''}\n    ${el.replaceAll('\n', '\n    ')}`;
        await flush(false);
      }
      buf += '\n  ]';
    } else {
      buf += (JSON.stringify(plain, null, 2) ?? 'null').replaceAll('\n', '\n  ');
    }
    await flush(false);
  }
  buf += entries.length ? '\n}\n' : '}\n';
  await flush(true);
}
