/**
 * EventFd: the eventfd(2) stand-in for irqfd and ioeventfd. A counter with listeners:
 * `signal()` adds to the counter and notifies; `read()` returns and clears it.
 */
export class EventFd {
  private counter = 0n;
  private readonly listeners = new Set<() => void>();

  /** write(fd, 1): add to the counter and wake the listeners. */
  signal(value = 1n): void {
    this.counter += value;
    for (const l of this.listeners) l();
  }

  /** read(fd): the counter, then zero (EFD semantics without EFD_SEMAPHORE). */
  read(): bigint {
    const v = this.counter;
    this.counter = 0n;
    return v;
  }

  get pending(): bigint {
    return this.counter;
  }

  /** Subscribe; returns the function that unsubscribes. */
  onSignal(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
