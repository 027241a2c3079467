/** Counts the service's streams: active while they run, then completed, cancelled or failed (metrics, tests). */

export interface StreamCounts {
  activeStreams: number;
  completedStreams: number;
  cancelledStreams: number;
  failedStreams: number;
}

export class StreamCounter {
  private readonly counts: StreamCounts = {
    activeStreams: 0,
    completedStreams: 0,
    cancelledStreams: 0,
    failedStreams: 0,
  };

  /** Yields what `stream` yields, counted; an error after `signal` aborted counts as a cancel. */
  async *track<T>(signal: AbortSignal, stream: () => AsyncIterable<T>): AsyncGenerator<T> {
    this.counts.activeStreams++;
    let outcome: 'completed' | 'cancelled' | 'failed' = 'cancelled';
    try {
      yield* stream();
      outcome = 'completed';
    } catch (error) {
      outcome = signal.aborted ? 'cancelled' : 'failed';
      throw error;
    } finally {
      // A consumer that stops pulling early (client gone) ends here without an error: that is a cancel.
      this.counts.activeStreams--;
      this.counts[`${outcome}Streams`]++;
    }
  }

  stats(): StreamCounts {
    return { ...this.counts };
  }
}
