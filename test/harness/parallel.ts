/**
 * Runs `run` on every item, `parallel` at a time, and returns the failures as messages
 * (`label(item): error message`), so that one failing item does not hide the others.
 */
export async function failuresOf<T>(items: readonly T[], parallel: number, label: (item: T) => string, run: (item: T) => Promise<void>): Promise<string[]> {
  const failures: string[] = [];
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await run(item);
      } catch (e) {
        failures.push(`${label(item)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return failures;
}
