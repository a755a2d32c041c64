// Builds the web app (web/) into web/dist, which the API serves: the three
// pages and the style sheet as they are, and one script bundled by esbuild
// from web/src (Preact and our code). Offline and in about a second; `npm
// start` runs it first, the Docker image's build stage too, and the browser
// tests before they start.
//
//   npm run build:web        # builds, and prints the script's size, gzipped
import { cp, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const WEB = path.resolve(__dirname, '..', 'web');

/** What the browser downloads, in bytes. */
export type WebBuild = { outDir: string; script: { bytes: number; gzipped: number }; styles: { bytes: number; gzipped: number } };

/** The budget the issue set: a page must load fast on a slow link. The build fails above it. */
const MAX_SCRIPT_GZIPPED = 100 * 1024;

export async function buildWeb(outDir = path.join(WEB, 'dist')): Promise<WebBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'assets'), { recursive: true });
  await build({
    entryPoints: [path.join(WEB, 'src', 'main.tsx')],
    outfile: path.join(outDir, 'assets', 'app.js'),
    bundle: true,
    minify: true,
    format: 'esm',
    // What the CI's Chromium and any browser of the last few years run.
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    logLevel: 'warning',
  });
  await cp(path.join(WEB, 'public'), outDir, { recursive: true, filter: (src) => !src.endsWith('.css') });
  await cp(path.join(WEB, 'public', 'styles.css'), path.join(outDir, 'assets', 'styles.css'));
  const size = async (file: string) => {
    const bytes = await readFile(path.join(outDir, 'assets', file));
    return { bytes: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
  };
  const result = { outDir, script: await size('app.js'), styles: await size('styles.css') };
  if (result.script.gzipped > MAX_SCRIPT_GZIPPED) {
    throw new Error(`the web app's script is ${kB(result.script.gzipped)} gzipped, over its budget of ${kB(MAX_SCRIPT_GZIPPED)}`);
  }
  return result;
}

export const kB = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

export function describeBuild({ outDir, script, styles }: WebBuild): string {
  return `built ${path.relative(process.cwd(), outDir) || outDir}: app.js ${kB(script.bytes)} (${kB(script.gzipped)} gzipped), styles.css ${kB(styles.bytes)} (${kB(styles.gzipped)} gzipped)`;
}

if (require.main === module) {
  buildWeb()
    .then((built) => console.log(`[web] ${describeBuild(built)}`))
    .catch((err) => {
      console.error(`[web] ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    });
}
