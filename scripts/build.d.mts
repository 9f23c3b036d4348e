// Types of build.mjs for the test set-up.
export declare const build: () => Promise<unknown>
