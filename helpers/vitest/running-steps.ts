import type { Vitest } from "vitest/node";

interface TaskLike {
  type: string;
  name: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

// The steps in flight right now, as vitest's own state tracks them: what a lost engine interrupted.
export function runningSteps(vitest: Vitest): string[] {
  const found: string[] = [];
  const visit = (task: TaskLike, path: string[]) => {
    const here = task.type === "suite" ? [...path, task.name] : path;
    if (task.type === "test" && task.result?.state === "run") found.push([...path, task.name].join(" > "));
    for (const child of task.tasks ?? []) visit(child, here);
  };
  for (const file of vitest.state.getFiles() as unknown as TaskLike[])
    for (const task of file.tasks ?? []) visit(task, []);
  return found;
}
