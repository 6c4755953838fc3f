// `snapshot`: write the objects a live scan reads (no Secret values) as a v1 List, so the same scan can be
// repeated offline (`scan -f cluster.json`), shared, or diffed later.
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import type { Writable } from 'node:stream';
import type { CliIO } from '../io.ts';
import { EXIT, UserError } from '../exit-codes.ts';
import { readCluster } from '../../sources/cluster/index.ts';
import { CLUSTER_FLAGS, CLUSTER_FLAGS_HELP, clusterOptionsFromFlags } from '../../sources/cluster/flags.ts';
import { CollectingSink, snapshotHead } from '../../sources/cluster/snapshot.ts';

const HELP = (cmd: string) => `Usage: ${cmd} snapshot [-o json|yaml] [cluster flags] > cluster.json

Lists what a live scan reads (namespaces, pods, service accounts, RBAC, pod-owning workloads; with
--secrets-metadata the service-account-token Secrets as metadata only) and writes it as a v1 List.
\`${cmd} scan -f cluster.json\` gives the same result as the live scan did.
Exit code 4 when part of the cluster could not be read (the snapshot records which part).

  -o, --output FORMAT      json (default) or yaml

${CLUSTER_FLAGS_HELP}`;

/** Writes with backpressure, so a 150,000-pod List streams instead of sitting in one string. */
async function write(out: Writable, s: string): Promise<void> {
  if (!out.write(s)) await new Promise<void>((r) => out.once('drain', r));
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...CLUSTER_FLAGS, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: false,
  });
  if (values.help) {
    io.stdout.write(HELP(io.invokedAs));
    return EXIT.OK;
  }
  const output = values.output ?? 'json';
  if (output !== 'json' && output !== 'yaml') throw new UserError(`--output must be json or yaml, not ${JSON.stringify(output)}`);
  const opts = clusterOptionsFromFlags(values);
  const sink = new CollectingSink();
  const result = await readCluster(opts, sink, io);
  // Everything is read before the first byte is written: a failed read never leaves half a snapshot.
  const head = snapshotHead(result);
  if (output === 'yaml') {
    await write(io.stdout, stringify({ ...head, items: sink.objects }, { lineWidth: 0 }));
  } else {
    const headJson = JSON.stringify(head, null, 2);
    await write(io.stdout, headJson.slice(0, -2) + ',\n  "items": [');
    for (let i = 0; i < sink.objects.length; i++) {
      const item = JSON.stringify(sink.objects[i], null, 2).replace(/\n/g, '\n    ');
      await write(io.stdout, `${i ? ',' : ''}\n    ${item}`);
    }
    await write(io.stdout, sink.objects.length ? '\n  ]\n}\n' : ']\n}\n');
  }
  for (const g of result.gaps) io.stderr.write(`${io.invokedAs}: incomplete: cannot read ${g.resource}${g.namespace ? ` in ${g.namespace}` : ''}: ${g.reason}\n`);
  return result.gaps.length ? EXIT.INCOMPLETE : EXIT.OK;
}
