// `npm start`: the main job. With no arguments it scans the bundled example cluster (examples/); with
// arguments it runs `scan` with them (`npm start -- -f my-manifests/ -o json`).
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { main } from '../src/cli/main.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
// The example cluster has findings on purpose; the demo run exits 0 unless you pass your own flags.
const argv = args.length > 0 ? ['scan', ...args] : ['scan', relative(process.cwd(), join(root, 'examples')) || '.', '--fail-on', 'none'];
if (args.length === 0) process.stderr.write(`kube-sa-audit: scanning the bundled example cluster (${argv[1]}); pass arguments to scan your own input\n`);
process.exitCode = await main(argv, { invokedAs: 'kube-sa-audit' });
