// Private engines are named `<prefix>-<owner pid>-…`: an engine whose owner was killed (SIGKILL, a lost terminal)
// is still up, and only its name says whose it was. Another live run's engines are never touched.
import { privateEngineNames, stopPrivateEngine } from "../../helpers/private-engines/engine.ts";
import { isAlive } from "../../helpers/util/processes.ts";

export const engineName = (prefix: string, what: string) => `${prefix}-${process.pid}-${what}`;

export async function stopOrphans(prefix: string, say: (line: string) => void): Promise<void> {
  for (const name of privateEngineNames()) {
    const owner = Number(new RegExp(`^${prefix}-(\\d+)-`).exec(name)?.[1]);
    if (!owner || owner === process.pid || isAlive(owner)) continue;
    say(`stopping ${name}, left running by a run that was killed`);
    await stopPrivateEngine(name, true);
  }
}
