// What an import or an export refuses or fails with: in a module of their own, so the command
// line tells them apart (exit 2 or 1) without loading the readers and writers themselves.

/** A file or stream that is not what it says (bad input): refused, nothing of it used. */
export class ImportError extends Error {}
/** The file could not be written (permissions, space, a missing folder): nothing was written. */
export class ExportError extends Error {}
/** The history cannot answer: there is none, or none for the moment asked about (exit 1, with why). */
export class HistoryUnavailable extends Error {}
/** The target is not a regular file: refused before anything was written (bad input). */
export class ExportRefused extends ExportError {}
