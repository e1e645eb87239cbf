/**
 * Collects the records an invocation writes beside its answers (audit entries written on their own, outcome events),
 * so the handler can wait for all of them before it returns: Lambda must not return with work in flight. One per
 * invocation, passed down; never module state.
 */
export interface Recorder {
  /** Keeps track of a write; it must never reject (failures are logged and counted by whoever made it). */
  track: (write: Promise<void>) => void;
  /** Waits for every tracked write, including ones tracked while waiting. */
  settle: () => Promise<void>;
}

export const createRecorder = (): Recorder => {
  const pending: Array<Promise<void>> = [];
  return {
    track: (write) => void pending.push(write),
    settle: async () => {
      while (pending.length > 0) await Promise.all(pending.splice(0));
    },
  };
};
