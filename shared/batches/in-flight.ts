/**
 * Runs `work` over the elements in order, at most `limit` at once. After a failure it starts no more, and rejects with
 * that first failure once those in flight have settled: when it rejects, nothing it started is still running.
 */
export const eachInFlight = async <T>(
  elements: readonly T[],
  limit: number,
  work: (element: T, index: number) => Promise<unknown>,
): Promise<void> => {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < elements.length) {
      const index = next;
      next += 1;
      try {
        await work(elements[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, elements.length) }, worker));
  if (failure !== undefined) throw failure.error;
};
