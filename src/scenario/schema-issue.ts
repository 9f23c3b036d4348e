// One line naming the first bad field of a failed Schema decode (for the files `servesim report` reads).
import { SchemaIssue } from "effect"

const formatPath = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string => {
  if (path === undefined || path.length === 0) return "(top level)"
  let out = ""
  for (const seg of path) {
    const key = typeof seg === "object" ? seg.key : seg
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** "FILE: points[2].metrics.mean_ttft_ms.mean: Expected a finite number, got \"slow\"". */
export const firstIssueLine = (failure: { readonly issue: SchemaIssue.Issue; readonly message: string }, fileName: string): string => {
  const issue = formatter(failure.issue).issues[0]
  const message = (issue?.message ?? failure.message).replace(/\s+/g, " ")
  return `${fileName}: ${formatPath(issue?.path)}: ${message}`
}
