// What the engine said when it refused a request, in one line.
export function engineMessage(error: unknown): string {
  const message = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message ?? String(error);
  // A streamed request (a pull) that failed at once reaches us as dockerode's "(HTTP code 500) server error - <engine's
  // message>": the engine's own words are the reason.
  return message
    .split("\n")[0]!
    .replace(/^\(HTTP code \d+\) [\w ]+ - /, "")
    .trim();
}
