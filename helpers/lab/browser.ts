import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";
import type { TestContext } from "vitest";

const CANDIDATES = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

// Without the background-networking flags Chromium keeps calling out to Google's hosts, which a closed network refuses.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const INSTALL_HINT =
  "install Chromium (Debian: apt-get install -y chromium; macOS: brew install --cask chromium) or set CHROMIUM_PATH";

export async function openBrowser(skip: TestContext["skip"]): Promise<Browser & AsyncDisposable> {
  const executablePath = [process.env.CHROMIUM_PATH, ...CANDIDATES].find((path) => path && existsSync(path));
  // A browser step that cannot run fails; skipping it is the user's explicit choice, never the suite's.
  if (!executablePath) {
    if (process.env.LABS_SKIP_BROWSER === "1")
      skip(`skipped: LABS_SKIP_BROWSER=1 and no Chromium found (${INSTALL_HINT})`);
    throw new Error(
      `No Chromium for the browser step: ${INSTALL_HINT}, or set LABS_SKIP_BROWSER=1 to skip the browser steps`,
    );
  }
  // Imported here, not at the top: most steps of a spec that has a browser step never need it.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args: FLAGS });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}
