import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..');
const WORKFLOWS = path.join(ROOT, 'workflows');
const DOMAIN = path.join(ROOT, 'domain');
/** Builds retired from the tree, kept as their bundles: see builds/README.md. */
export const RETIRED_BUILDS = path.join(ROOT, 'builds');

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
  return hashOf([...workflowSources(), ...interceptorModules]);
}

/**
 * The build id of the workflow code in this tree (BUILD_ID's default, see
 * docs/deploys.md): a hash of the workflow sources (domain/ included) and package-lock.json, which
 * pins the SDK that runs them. Any change to the workflow is a new build, and
 * a new build takes only new sagas: those in flight stay pinned to the build
 * that started them. The interceptors are left out: they add headers, never
 * commands, so a worker with traces and one without run the same build.
 */
export function workflowBuildId(): string {
  return hashOf(workflowSources());
}

/** The workflow code: workflows/ and the pure vocabulary it imports from domain/. */
function workflowSources(): string[] {
  return [WORKFLOWS, DOMAIN].flatMap((dir) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .sort()
      .map((f) => path.join(dir, f)),
  );
}

function hashOf(files: string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files, path.join(ROOT, 'package-lock.json')]) {
    hash.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The build a worker runs: a retired build kept in builds/<buildId>.js if
 * BUILD_ID names one, otherwise the workflow code in this tree, as build
 * BUILD_ID, or as its own id (workflowBuildId) when BUILD_ID is unset.
 */
export async function workerBuild(
  buildId: string | undefined,
  interceptorModules: string[],
): Promise<{ buildId: string; workflowBundle: { codePath: string } | { code: string }; retired: boolean }> {
  const retired = buildId ? retiredBuildPath(buildId) : undefined;
  if (retired) return { buildId: buildId!, workflowBundle: { codePath: retired }, retired: true };
  return { buildId: buildId ?? workflowBuildId(), workflowBundle: await cachedWorkflowBundle(interceptorModules), retired: false };
}

/** The ids of the builds kept in builds/. */
export function retiredBuildIds(): string[] {
  if (!existsSync(RETIRED_BUILDS)) return [];
  return readdirSync(RETIRED_BUILDS)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.replace(/\.js$/, ''))
    .sort();
}

/** builds/<buildId>.js, if that build is kept there. */
export function retiredBuildPath(buildId: string): string | undefined {
  const file = path.join(RETIRED_BUILDS, `${buildId}.js`);
  return existsSync(file) ? file : undefined;
}
