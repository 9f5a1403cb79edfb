// EPERM: the process exists, it is only someone else's.
export function isAlive(pid: number): boolean {
  try {
    return process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

// Ctrl-C or SIGTERM aborts the signal returned (its reason is the signal's name), once; `onSignal` says what stops.
export function abortOnSignals(onSignal: (name: NodeJS.Signals) => void): AbortSignal {
  const controller = new AbortController();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    process.on(name, () => {
      if (controller.signal.aborted) return;
      onSignal(name);
      controller.abort(name);
    });
  }
  return controller.signal;
}

// The shell's exit code for a run that a signal stopped.
export const signalExitCode = (signal: AbortSignal): number =>
  EXIT_CODES[signal.reason as keyof typeof EXIT_CODES] ?? 1;
