// Where the shared test corpus is: `shared/corpus` beside the repository (as CI lays it out), or KSA_CORPUS.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CORPUS = process.env.KSA_CORPUS ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'corpus');
export const REAL_WORLD = join(CORPUS, 'real-world');
