// Keeps the workflow code in this tree as a retired build, before a change that
// its sagas could not replay (docs/deploys.md, "Before each deploy"):
//
//   npm run build:retire
//
// writes its bundle to builds/<build id>.js and moves its histories from
// test/histories/current/ to test/histories/<build id>/, where the replay
// tests replay them against that bundle. Then change the workflow, and record
// the new build's histories with npm run histories:record.
//
// Why a bundle, not the source at a git tag: the bundle is the build. It holds
// the workflow code and the SDK's workflow runtime as they ran (a tag would be
// bundled with whatever SDK the tree has now), it needs no git history (CI
// clones may be shallow), and a worker runs it as it is: BUILD_ID=<build id>
// npm run worker, for as long as sagas are pinned to it.
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { RETIRED_BUILDS, workflowBuildId } from '../lib/workflow-bundle';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../worker';

const HISTORIES = path.join(__dirname, '..', 'test', 'histories');

async function main(): Promise<void> {
  const buildId = workflowBuildId();
  const file = path.join(RETIRED_BUILDS, `${buildId}.js`);
  if (existsSync(file)) throw new Error(`Build ${buildId} is retired already (${path.relative(process.cwd(), file)})`);
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    // Every interceptor, so that the retired build runs with traces on or off.
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
  });
  mkdirSync(RETIRED_BUILDS, { recursive: true });
  writeFileSync(file, withoutSourceTexts(code));
  const from = path.join(HISTORIES, 'current');
  const to = path.join(HISTORIES, buildId);
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter((f) => f.endsWith('.json'))) renameSync(path.join(from, name), path.join(to, name));
  console.log(`Build ${buildId} retired: ${path.relative(process.cwd(), file)}, its histories in ${path.relative(process.cwd(), to)}/.`);
  console.log('Now change the workflow, then record the new build: npm run histories:record');
}

/**
 * The bundle with its inline source map cut to the mappings: the map also
 * carries the text of every source (the SDK's included), which would double the
 * file. The SDK refuses a bundle without a map; stack traces still name files
 * and lines.
 */
function withoutSourceTexts(code: string): string {
  const inline = /\n\/\/# sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,(.*)$/m.exec(code);
  if (!inline) throw new Error('The bundle has no inline source map');
  const { sourcesContent: _, ...map } = JSON.parse(Buffer.from(inline[1]!, 'base64').toString('utf8'));
  return `${code.slice(0, inline.index)}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
