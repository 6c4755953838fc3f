#!/usr/bin/env node
// kubectl plugin entry: `kubectl sa-audit …` runs this file when it is on PATH as `kubectl-sa_audit`.
process.env.KSA_INVOKED_AS = 'kubectl sa-audit';
await import('./kube-sa-audit.js');
