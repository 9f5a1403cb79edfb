import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { posix, win32 } from "node:path";
import type { Browser, BrowserContext } from "playwright-core";
import type { TestContext } from "vitest";
import { onWorkerEnd } from "../util/worker-end.ts";

// Where Chromium, Chrome and Edge (Chromium too) install: Debian's packages; a Mac's /Applications, or ~/Applications
// for a per-user install; on Windows under %LOCALAPPDATA% (per-user) or Program Files, where playwright-core's own
// chrome and msedge channels look.
export function chromiumCandidates(platform = process.platform, env = process.env, home = homedir()): string[] {
  if (platform === "darwin")
    return ["/Applications", posix.join(home, "Applications")].flatMap((apps) => [
      posix.join(apps, "Chromium.app/Contents/MacOS/Chromium"),
      posix.join(apps, "Google Chrome.app/Contents/MacOS/Google Chrome"),
      posix.join(apps, "Microsoft Edge.app/Contents/MacOS/Microsoft Edge"),
    ]);
  if (platform === "win32")
    return [env.LOCALAPPDATA, env.ProgramFiles, env["ProgramFiles(x86)"]]
      .filter((root): root is string => Boolean(root))
      .flatMap((root) => [
        win32.join(root, "Chromium", "Application", "chrome.exe"),
        win32.join(root, "Google", "Chrome", "Application", "chrome.exe"),
        win32.join(root, "Microsoft", "Edge", "Application", "msedge.exe"),
      ]);
  return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/opt/google/chrome/chrome"];
}

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
  "install Chromium (Debian: apt-get install -y chromium; macOS: brew install --cask chromium; Windows: Chrome or " +
  "Edge) or set CHROMIUM_PATH";

// One Chromium per worker, launched by the first step that asks and closed as the worker ends; each step gets a context
// of its own (its own cookies, cache and pages), closed with it.
let launched: Promise<Browser> | undefined;

async function launch(executablePath: string): Promise<Browser> {
  // Imported here, not at the top: most steps of a spec that has a browser step never need it.
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath, args: FLAGS });
  browser.on("disconnected", () => (launched = undefined));
  onWorkerEnd(() => browser.close());
  return browser;
}

export async function openBrowser(skip: TestContext["skip"]): Promise<BrowserContext & AsyncDisposable> {
  const executablePath = [process.env.CHROMIUM_PATH, ...chromiumCandidates()].find((path) => path && existsSync(path));
  // A browser step that cannot run fails; skipping it is the user's explicit choice, never the suite's.
  if (!executablePath) {
    if (process.env.LABS_SKIP_BROWSER === "1")
      skip(`skipped: LABS_SKIP_BROWSER=1 and no Chromium found (${INSTALL_HINT})`);
    throw new Error(
      `No Chromium for the browser step: ${INSTALL_HINT}, or set LABS_SKIP_BROWSER=1 to skip the browser steps`,
    );
  }
  launched ??= launch(executablePath).catch((error: unknown) => {
    launched = undefined;
    throw error;
  });
  const context = await (await launched).newContext();
  return Object.assign(context, { [Symbol.asyncDispose]: () => context.close() });
}
