import { readFileSync } from 'node:fs';
import path from 'node:path';

// The bench is its own package (bench/package.json) so that the root install,
// which npm start, npm test and the image use, carries no peer engine.
const ROOT = path.resolve(__dirname, '../..');
const json = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), 'utf8'));
const topLevel = (lock: { packages: Record<string, unknown> }) =>
  Object.keys(lock.packages)
    .filter((p) => /^node_modules\/(@[^/]+\/)?[^/@]+$/.test(p))
    .map((p) => p.slice('node_modules/'.length));

test('the root install holds no package of a peer engine', () => {
  const names = Object.keys(json('package-lock.json').packages);
  expect(names.filter((p) => /node_modules\/@(dbos-inc|restatedev)\//.test(p))).toEqual([]);
});

test('bench/node_modules holds only the bench’s own dependencies at its top level, none the root provides', () => {
  // A bare import in bench/*.ts resolves bench/node_modules first: a package there
  // that the root also has would be a second copy (two @temporalio/* would break the worker).
  const bench = json('bench/package.json');
  const root = json('package.json');
  const own = Object.keys(bench.dependencies).sort();
  expect(topLevel(json('bench/package-lock.json')).sort()).toEqual(own);
  expect(own.filter((name) => name in { ...root.dependencies, ...root.devDependencies })).toEqual([]);
});
