// The kernel's TCP event buffer per CPU, in KiB: its default and what may be asked for. Apart from
// the tracer, so the command line checks an option without loading the collector.

/** ~50,000 events per CPU: a second of 10,000 connections a second, if a drain were that late. */
export const BUFFER_KB_PER_CPU = 4096;
export const MIN_BUFFER_KB = 8;
export const MAX_BUFFER_KB = 1 << 20;
export const TCP_EVENT_BUFFER_KB = { default: BUFFER_KB_PER_CPU, min: MIN_BUFFER_KB, max: MAX_BUFFER_KB } as const;
