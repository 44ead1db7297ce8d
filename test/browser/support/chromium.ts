import { access, constants } from 'node:fs/promises';
import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's `chromium` package through playwright-core: no browser is downloaded, so a missing
 * package fails the suite (never skips it). .ci/run installs it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// The background-networking flags keep Chromium from calling home on a closed network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches a headless Chromium with a new, empty temporary profile (removed on close). */
export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM, constants.X_OK).catch(() => {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium), as .ci/run does`);
  });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}
