// Types of entry.js (plain JavaScript: it runs before any TypeScript loader).
export declare const bundleIsCurrent: (root: string) => boolean
export declare const chooseEntry: (root: string, env?: Readonly<Record<string, string | undefined>>) => "dist" | "source"
