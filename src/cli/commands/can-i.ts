// `kube-sa-audit can-i VERB TYPE[/NAME] | VERB /URL [--subresource S] [-n NS | -A] --as USER [--as-group G]… [-f PATH…]`
// and `can-i --list`: the arguments, output and exit codes of `kubectl auth can-i` (0 yes, 1 no), answered by
// kube-sa-audit's RBAC engine. With -f the answer comes offline from the files plus the built-in policy of the
// pinned release; without -f the RBAC objects are read live (read-only lists, as `scan` does) and the same
// engine answers — no impersonation rights are needed, only `list` on the four RBAC kinds.
import { parseArgs } from 'node:util';
import type { CliIO } from '../io.ts';
import { EXIT, UserError } from '../exit-codes.ts';
import type { Inventory } from '../../inventory/types.ts';
import { RbacEngine, impersonatedUser, type UserInfo } from '../../rbac/engine.ts';
import { resolveResourceArg } from '../../rbac/resources.ts';
import { accessTable } from '../../rbac/access-table.ts';
import type { RequestAttributes } from '../../rbac/match.ts';

const HELP = `Usage: kube-sa-audit can-i VERB [TYPE | TYPE/NAME | NONRESOURCEURL] [flags]
       kube-sa-audit can-i --list [flags]

Answers \`kubectl auth can-i\` exactly as the RBAC authorizer would, offline from manifests (-f) with the
built-in policy of Kubernetes v1.36.3, or from the live cluster's RBAC objects. Exit code 0 = yes, 1 = no.

Flags:
  --as USER                 identity to check, e.g. system:serviceaccount:NS:NAME (required offline;
                            live without it: the current credentials, found by a SelfSubjectReview)
  --as-group GROUP          group of that identity (repeatable; replaces the service-account groups)
  -f, --filename PATH       manifest file, directory or - (repeatable); none = live cluster
  -n, --namespace NS        namespace of the request (default: "default" offline, the context's namespace live)
  -A, --all-namespaces      check in all namespaces (namespace "")
  --subresource S           subresource such as log or scale
  --list                    print every allowed action (kubectl's table)
  --no-headers              with --list: no header line
  -q, --quiet               no output, exit code only
  --kubeconfig PATH, --context NAME   live cluster selection
`;

const KNOWN_RESOURCE_VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'use', 'bind', 'impersonate', '*', 'approve', 'sign', 'escalate', 'attest']);
const KNOWN_NON_RESOURCE_VERBS = new Set(['get', 'put', 'post', 'head', 'options', 'delete', 'patch', '*']);
const NON_STANDARD = new Set(['users', 'groups']);

export interface LoadedRbac {
  engine: RbacEngine;
  inventory: Inventory;
  /** Namespace of the live context (or undefined). */
  contextNamespace?: string;
}

/** Reads -f inputs (or the live cluster) into an engine; input problems go to stderr as `file:line: message`. */
export async function loadRbac(files: string[], live: { kubeconfig?: string; context?: string }, io: CliIO): Promise<LoadedRbac & { inputErrors: number }> {
  const { InventoryBuilder } = await import('../../inventory/build.ts');
  let inventory: Inventory;
  let contextNamespace: string | undefined;
  if (files.length > 0) {
    const { readManifests } = await import('../../sources/manifests/index.ts');
    const builder = new InventoryBuilder({ origin: 'manifests' });
    await readManifests(files, builder, { stdin: io.stdin, cwd: io.cwd });
    inventory = builder.finish();
  } else {
    const cluster = await import('../../sources/cluster/index.ts');
    const builder = new InventoryBuilder({ origin: 'cluster' });
    // Resolved here (as kubectl would) so the request's default namespace is the context's.
    const connection = cluster.loadKubeConfig({ ...(live.kubeconfig ? { kubeconfig: live.kubeconfig } : {}), ...(live.context ? { context: live.context } : {}), env: io.env });
    contextNamespace = connection.namespace;
    const res = await cluster.readCluster({ quiet: true, connection }, builder, io);
    builder.setServerVersion(res.serverVersion);
    inventory = builder.finish();
    inventory.origin = 'cluster';
    inventory.serverVersion = res.serverVersion;
    const rbacGaps = res.gaps.filter((g) => /roles|rolebindings/.test(g.resource));
    for (const g of rbacGaps) io.stderr.write(`Warning: could not read ${g.resource}${g.namespace ? ` in ${g.namespace}` : ''}: ${g.reason}; the answer may miss grants\n`);
  }
  let inputErrors = 0;
  for (const p of inventory.problems) {
    io.stderr.write(`${p.file}:${p.line}: ${p.message}\n`);
    if (p.level === 'error') inputErrors++;
  }
  return { engine: RbacEngine.fromInventory(inventory), inventory, inputErrors, ...(contextNamespace ? { contextNamespace } : {}) };
}

/**
 * The identity of the live kubeconfig's credentials, as the API server sees it (SelfSubjectReview, which every
 * authenticated identity may create). Used when can-i runs live without --as, like `kubectl auth can-i`.
 */
async function currentUser(live: { kubeconfig?: string; context?: string }, io: CliIO): Promise<UserInfo> {
  const { clientNodeKubeConfig } = await import('../../sources/cluster/client-node.ts');
  const { AuthenticationV1Api } = await import('@kubernetes/client-node');
  const kc = await clientNodeKubeConfig(live, io);
  try {
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
    const info = review.status?.userInfo;
    if (!info?.username) throw new Error('the server returned no user name');
    return { name: info.username, groups: info.groups ?? [] };
  } catch (err) {
    throw new UserError(`cannot tell who the current credentials are (SelfSubjectReview failed: ${(err as Error).message.split('\n')[0]}); pass --as`, EXIT.CLUSTER_UNAVAILABLE);
  }
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      as: { type: 'string' },
      'as-group': { type: 'string', multiple: true },
      filename: { type: 'string', short: 'f', multiple: true },
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      subresource: { type: 'string' },
      list: { type: 'boolean' },
      'no-headers': { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return EXIT.OK;
  }
  const warn = (m: string): void => void io.stderr.write(`Warning: ${m}\n`);
  // Argument checks in kubectl's order and wording (cani.go Complete/Validate).
  let verb = '';
  let attrsBase: { kind: 'resource'; group: string; resource: string; name: string } | { kind: 'url'; path: string } | undefined;
  if (values.list) {
    if (positionals.length !== 0) throw new UserError('list option must be specified with no arguments');
    if (values.quiet || values['all-namespaces'] || values.subresource) throw new UserError("list option can't be specified with neither quiet, all-namespaces nor subresource options");
  } else {
    if (positionals.length !== 2) throw new UserError("you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kube-sa-audit can-i -h' for help and examples.");
    verb = positionals[0]!;
    const target = positionals[1]!;
    if (target.startsWith('/')) {
      attrsBase = { kind: 'url', path: target };
      if (values.subresource) throw new UserError('--subresource can not be used with NonResourceURL');
    } else {
      const slash = target.indexOf('/');
      const typeArg = slash < 0 ? target : target.slice(0, slash);
      const name = slash < 0 ? '' : target.slice(slash + 1);
      const resolved = resolveResourceArg(typeArg);
      if (!resolved.type && typeArg !== '*') {
        const dot = typeArg.toLowerCase().indexOf('.');
        const res = dot < 0 ? typeArg.toLowerCase() : typeArg.toLowerCase().slice(0, dot);
        const grp = dot < 0 ? '' : typeArg.toLowerCase().slice(dot + 1);
        if (!NON_STANDARD.has(dot < 0 ? res : `${res}.${grp}`)) warn(grp ? `the server doesn't have a resource type '${res}' in group '${grp}'` : `the server doesn't have a resource type '${res}'`);
      }
      attrsBase = { kind: 'resource', group: resolved.group, resource: resolved.resource, name };
      if (resolved.type && !resolved.type.namespaced && !values['all-namespaces']) {
        warn(resolved.group ? `resource '${resolved.resource}' is not namespace scoped in group '${resolved.group}'` : `resource '${resolved.resource}' is not namespace scoped`);
      }
    }
    if (attrsBase.kind === 'url' ? !KNOWN_NON_RESOURCE_VERBS.has(verb) : !KNOWN_RESOURCE_VERBS.has(verb)) warn(`verb '${verb}' is not a known verb`);
    if (values['no-headers']) throw new UserError('--no-headers cannot be set without --list specified');
  }

  const files = values.filename ?? [];
  if (files.length > 0 && !values.as) throw new UserError('offline can-i needs --as (e.g. --as system:serviceaccount:NS:NAME): manifests carry no current identity');
  const loaded = await loadRbac(files, { kubeconfig: values.kubeconfig, context: values.context }, io);
  let u: UserInfo;
  if (values.as) u = impersonatedUser(values.as, values['as-group'] ?? []);
  else if (values['as-group']) throw new UserError('--as-group requires --as');
  else u = await currentUser({ kubeconfig: values.kubeconfig, context: values.context }, io);

  const namespace = values['all-namespaces'] ? '' : (values.namespace ?? loaded.contextNamespace ?? 'default');
  const out = values.quiet ? null : io.stdout;
  if (values.list) {
    const review = loaded.engine.rulesFor(u, namespace);
    if (review.evaluationError) warn(`the list may be incomplete: ${review.evaluationError}`);
    io.stdout.write(accessTable(review, { noHeaders: values['no-headers'] }));
    return loaded.inputErrors > 0 ? EXIT.UNREADABLE_INPUT : EXIT.OK;
  }
  const attrs: RequestAttributes =
    attrsBase!.kind === 'url'
      ? { verb, path: attrsBase!.path }
      : { verb, apiGroup: attrsBase!.group, resource: attrsBase!.resource, subresource: values.subresource ?? '', name: attrsBase!.name, namespace };
  const d = loaded.engine.authorize(u, attrs);
  if (d.allowed) out?.write('yes\n');
  else out?.write(d.reason ? `no - ${d.reason}\n` : 'no\n');
  if (loaded.inputErrors > 0) return EXIT.UNREADABLE_INPUT;
  return d.allowed ? EXIT.OK : EXIT.FINDINGS;
}
