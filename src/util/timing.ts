/** Lets queued requests and events run between two synchronous slices of work. */
export function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
