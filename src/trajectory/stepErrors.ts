/**
 * The error type of a step whose reply had no parsable code block, so nothing was run (METHOD §2). The agent
 * stores it with `kind: 'parse'`, like a `SyntaxError` in the code; the type tells the two apart, which the
 * teacher filter needs (METHOD §6: only the missing block is dropped).
 */
export const MISSING_CODE_BLOCK_TYPE = 'CodeBlockMissing';
