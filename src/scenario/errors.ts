// Typed failures of the CLI's edge. Every one carries a one-line `message` naming the field or cause;
// the runner prints it and exits with code 2.
import { Data } from "effect"

/** A scenario, profile, trace, CSV or flag that cannot be used as given. */
export class InputError extends Data.TaggedError("InputError")<{ readonly message: string }> {}

/** A file that cannot be read or written. */
export class FileError extends Data.TaggedError("FileError")<{ readonly message: string }> {}
