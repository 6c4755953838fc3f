import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measure, parseTimeV, targets, type Measurement } from '../../bench/run.ts';

const SAMPLE = `some program output
\tCommand being timed: "jq -r . x.json"
\tUser time (seconds): 38.12
\tSystem time (seconds): 2.40
\tPercent of CPU this job got: 98%
\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02.51
\tMaximum resident set size (kbytes): 4089400
\tExit status: 0
`;

test('parses GNU time -v: m:ss wall, CPU, peak RSS in MB, exit status', () => {
  const t = parseTimeV(SAMPLE);
  assert.ok(t);
  assert.equal(t.wallS, 62.51);
  assert.equal(t.userS, 38.12);
  assert.equal(t.sysS, 2.4);
  assert.equal(Math.round(t.rssMB), 3994);
  assert.equal(t.exit, 0);
  assert.equal(parseTimeV('1:02:03.5'.replace(/^/, '\tElapsed (wall clock) time (h:mm:ss or m:ss): ') + '\n\tUser time (seconds): 1\n\tSystem time (seconds): 1\n\tMaximum resident set size (kbytes): 1024\n')?.wallS, 3723.5);
  assert.equal(parseTimeV('no report here'), undefined);
});

test('measure runs a real process under /usr/bin/time and reports a failing exit', () => {
  const ok = measure('true', 'x', '/bin/sh', ['-c', 'exit 0']);
  assert.equal(ok.exit, 0);
  assert.equal(ok.note, undefined);
  assert.ok(ok.wallS !== null && ok.wallS >= 0);
  assert.ok(ok.rssMB !== null && ok.rssMB > 0);
  const bad = measure('false', 'x', '/bin/sh', ['-c', 'echo boom >&2; exit 3']);
  assert.equal(bad.exit, 3);
  assert.match(bad.note ?? '', /exit 3: boom/);
  assert.equal(measure('findings', 'x', '/bin/sh', ['-c', 'exit 1'], { okExit: [0, 1] }).note, undefined);
});

const m = (wallS: number | null, rssMB: number | null, note?: string): Measurement =>
  ({ label: 'l', input: 'i', command: 'c', wallS, userS: wallS, sysS: 0, rssMB, exit: 0, ...(note ? { note } : {}) });

test('target ratios: met, missed, and not measured', () => {
  const by = new Map<string, Measurement>([
    ['T4/scan', m(10, 300)], ['T4/jq', m(60, 4000)], ['T2/scan', m(2, 250)], ['T2/parse', m(1.5, 700)],
    ['M1/scan-dir', m(1, 100)], ['M1/peer:kubeaudit asat', m(3, 200)], ['M1/peer:polaris', m(null, null, 'not built')],
  ]);
  const ts = targets(by, { rbacMs: 1000, totalMs: 10_000 });
  const get = (prefix: string) => ts.find((t) => t.name.startsWith(prefix))!;
  assert.equal(get('T4 scan wall').met, true);
  assert.equal(get('T4 scan wall').value, '0.167 ×');
  assert.equal(get('T4 scan peak RSS').met, true);
  assert.equal(get('T2 scan wall').met, false);
  assert.equal(get('T2 scan wall').value, '1.33 ×');
  assert.equal(get('RSS(T4)').met, true);
  assert.equal(get('manifest dir').met, true);
  assert.equal(get('T4 RBAC').met, true);
  const none = targets(new Map([['T4/scan', m(10, 300)]]));
  assert.equal(none.find((t) => t.name.startsWith('T4 scan wall'))!.met, null);
  assert.equal(none.find((t) => t.name.startsWith('T4 RBAC'))!.met, null);
  assert.equal(none.find((t) => t.name.startsWith('manifest dir'))!.met, null);
});
