// Private engines are named `<prefix>-<owner pid>-…`: an engine whose owner was killed (SIGKILL, a lost terminal)
// is still up, and only its name says whose it was. Another live run's engines are never touched.
import { isAlive } from "../util/processes.ts";
import { privateEngineNames, stopPrivateEngine } from "./lifecycle.ts";

export const engineName = (prefix: string, what: string) => `${prefix}-${process.pid}-${what}`;

export async function stopOrphanedEngines(prefix: string, say: (line: string) => void = () => undefined) {
  for (const name of privateEngineNames()) {
    const owner = Number(new RegExp(`^${prefix}-(\\d+)-`).exec(name)?.[1]);
    if (!owner || owner === process.pid || isAlive(owner)) continue;
    say(`stopping ${name}, left running by a run that was killed`);
    await stopPrivateEngine(name, true);
  }
}
