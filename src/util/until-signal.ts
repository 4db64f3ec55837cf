// The life of a long-lived command (`serve`, `agent`): start, say so, run until SIGINT
// or SIGTERM, then close. The handlers are in place before the readiness line: a
// script that stops the process as soon as it reads that line gets a clean exit, not
// a death by signal.

export interface Closable {
  close(): Promise<void>;
}

export async function runUntilSignal<T extends Closable>(start: () => Promise<T>, ready: (service: T) => void): Promise<void> {
  let stop!: () => void;
  const signalled = new Promise<void>(resolve => {
    stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
  });
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let service: T;
  try {
    service = await start();
  } catch (error) {
    stop();
    throw error;
  }
  ready(service);
  await signalled;
  await service.close();
}
