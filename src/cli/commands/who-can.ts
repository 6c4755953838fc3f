// `kube-sa-audit who-can VERB TYPE[/NAME] | VERB /URL [--subresource S] [-n NS | -A] [-f PATH…] [-o table|json]`:
// every subject the RBAC authorizer would allow, and through which binding and role. Offline from -f (plus the
// built-in policy of the pinned release) or live from the cluster's RBAC objects, like can-i.
import { parseArgs } from 'node:util';
import type { CliIO } from '../io.ts';
import { EXIT, UserError } from '../exit-codes.ts';
import { resolveResourceArg } from '../../rbac/resources.ts';
import { tabwrite } from '../../rbac/access-table.ts';
import type { RequestAttributes } from '../../rbac/match.ts';
import type { WhoCanEntry } from '../../rbac/engine.ts';
import { loadRbac } from './can-i.ts';

const HELP = `Usage: kube-sa-audit who-can VERB [TYPE | TYPE/NAME | NONRESOURCEURL] [flags]

Lists every subject (service account, user, group) that may perform the action, with the binding and role that
allow it, exactly as the RBAC authorizer decides. Groups are listed as groups: every service account is in
system:serviceaccounts, system:serviceaccounts:<ns> and system:authenticated.

Flags:
  -f, --filename PATH       manifest file, directory or - (repeatable); none = live cluster
  -n, --namespace NS        namespace of the request (default "default")
  -A, --all-namespaces      the action in any namespace (RoleBindings of every namespace)
  --subresource S           subresource such as exec or scale
  -o, --output FORMAT       table (default) or json
  --kubeconfig PATH, --context NAME   live cluster selection
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      subresource: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'table' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  if (positionals.length !== 2) throw new UserError("you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kube-sa-audit who-can -h' for help and examples.");
  if (values.output !== 'table' && values.output !== 'json') throw new UserError(`--output must be table or json, not ${JSON.stringify(values.output)}`);
  const [verb, target] = positionals as [string, string];
  const loaded = await loadRbac(values.filename ?? [], { kubeconfig: values.kubeconfig, context: values.context }, io);
  const engine = loaded.engine;

  let base: RequestAttributes;
  let clusterScoped = false;
  if (target.startsWith('/')) {
    if (values.subresource) throw new UserError('--subresource can not be used with NonResourceURL');
    base = { verb, path: target };
    clusterScoped = true;
  } else {
    const slash = target.indexOf('/');
    const r = resolveResourceArg(slash < 0 ? target : target.slice(0, slash));
    if (!r.type && target !== '*') io.stderr.write(`Warning: the server doesn't have a resource type '${r.resource}'\n`);
    clusterScoped = r.type ? !r.type.namespaced : false;
    base = { verb, apiGroup: r.group, resource: r.resource, subresource: values.subresource ?? '', name: slash < 0 ? '' : target.slice(slash + 1), namespace: '' };
  }

  const namespaces: string[] = clusterScoped ? [''] : values['all-namespaces'] ? ['', ...new Set(engine.roleBindings.map((b) => b.namespace))].sort() : [values.namespace ?? loaded.contextNamespace ?? 'default'];
  const seen = new Set<string>();
  const entries: WhoCanEntry[] = [];
  for (const ns of namespaces) {
    const attrs = 'path' in base ? base : { ...base, namespace: ns };
    for (const e of engine.whoCan(attrs)) {
      const key = `${e.grant.binding.kind}/${e.grant.binding.namespace}/${e.grant.binding.name}/${e.subject.kind}/${e.subject.namespace ?? ''}/${e.subject.name}`;
      if (!seen.has(key)) (seen.add(key), entries.push(e));
    }
  }

  if (values.output === 'json') {
    io.stdout.write(JSON.stringify(entries.map((e) => ({
      subject: { kind: e.subject.kind, name: e.subject.name, ...(e.subject.namespace ? { namespace: e.subject.namespace } : {}) },
      binding: e.grant.binding,
      role: { kind: e.grant.role.kind, name: e.grant.role.name },
      scope: e.grant.scope === '' ? 'cluster' : e.grant.scope,
      builtin: e.grant.builtin,
    })), null, 2) + '\n');
  } else {
    const rows = [['SUBJECT', 'KIND', 'SA-NAMESPACE', 'BINDING', 'ROLE', 'SCOPE']];
    for (const e of entries) {
      const b = e.grant.binding.kind === 'RoleBinding' ? `RoleBinding/${e.grant.binding.namespace}/${e.grant.binding.name}` : `ClusterRoleBinding/${e.grant.binding.name}`;
      rows.push([e.subject.name, e.subject.kind, e.subject.namespace ?? '', b, `${e.grant.role.kind}/${e.grant.role.name}`, e.grant.scope === '' ? 'cluster' : e.grant.scope]);
    }
    io.stdout.write(tabwrite(rows.map((r) => [...r.slice(0, -1), r[r.length - 1]!])));
  }
  return loaded.inputErrors > 0 ? EXIT.UNREADABLE_INPUT : EXIT.OK;
}
