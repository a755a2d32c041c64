import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..');
const WORKFLOWS = path.join(ROOT, 'workflows');

/**
 * The workflow bundle for this code, built once and kept on disk under
 * `.data/workflow-bundles/<hash>.js`. Bundling (webpack) takes 5 to 15 s on
 * two cores, and a worker that a supervisor restarts after a crash should take
 * its sagas back at once, not after that (docs/operations.md, "Scaling out
 * workers"). The hash covers everything the bundle is built from: the
 * workflow code, the interceptor modules named, and the locked dependency
 * versions; a change to any of them is a new file.
 */
export async function cachedWorkflowBundle(
  interceptorModules: string[],
  dir = path.join(ROOT, '.data', 'workflow-bundles'),
): Promise<{ codePath: string } | { code: string }> {
  const codePath = path.join(dir, `${workflowBundleHash(interceptorModules)}.js`);
  if (existsSync(codePath)) return { codePath };
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS,
    workflowInterceptorModules: interceptorModules,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  try {
    mkdirSync(dir, { recursive: true });
    // Written aside, then renamed: workers starting side by side never read a half-written bundle.
    const partial = `${codePath}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, codePath);
    return { codePath };
  } catch {
    // A read-only file system (a locked-down container) only costs the next start its bundling.
    return { code };
  }
}

/** A hash of the workflow sources, the interceptor modules and package-lock.json. */
export function workflowBundleHash(interceptorModules: string[]): string {
  const hash = createHash('sha256');
  const files = readdirSync(WORKFLOWS, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => path.join(WORKFLOWS, f));
  for (const file of [...files, ...interceptorModules, path.join(ROOT, 'package-lock.json')]) {
    hash.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}
