import { type z } from 'zod';

/**
 * A model's JSON reply read the one way judges here read it: the outermost `{…}` in the text (models wrap it
 * in prose or a fenced block), parsed and validated with the schema; otherwise what was wrong, in words
 * that go into a record's judge error.
 */
export function parseJsonReply<S extends z.ZodType>(text: string, schema: S): { value: z.infer<S> } | { error: string } {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return { error: 'the reply holds no JSON object' };
  let json: unknown;
  try {
    json = JSON.parse(text.slice(start, end + 1));
  } catch (err) {
    return { error: `the reply's JSON does not parse: ${err instanceof Error ? err.message : String(err)}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { error: `the reply's JSON has the wrong shape: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  return { value: parsed.data };
}
