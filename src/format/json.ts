// Shape checks of parsed JSON shared by every folder (the kernel's model and GPU configs included).

/** A plain JSON object (not null, not an array). */
export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x)
