import { mkdirSync, mkdtempSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/**
 * Debian's chromium package, driven over the DevTools protocol by
 * playwright-core: no browser is downloaded (.ci/run installs the package).
 * CHROMIUM_PATH points elsewhere.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, and quiet: nothing that would reach the network on its own. Playwright gives it a fresh profile each launch. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Where screenshots go: a temp dir per run (printed, a test artifact), or
 * SCREENSHOT_DIR. With UPDATE_SCREENSHOTS=1 each is also copied to
 * docs/screenshots/, the ones docs/web.md shows.
 */
export function screenshots(): { dir: string; take(page: Page, name: string): Promise<string> } {
  const dir = process.env.SCREENSHOT_DIR ?? mkdtempSync(path.join(tmpdir(), 'checkout-screenshots-'));
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`[web] screenshots in ${dir}\n`);
  const docs = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');
  return {
    dir,
    async take(page, name) {
      const file = path.join(dir, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        mkdirSync(docs, { recursive: true });
        await copyFile(file, path.join(docs, `${name}.png`));
      }
      return file;
    },
  };
}
