import { type z } from 'zod';

/** Formats a zod error as `path: message; …` for error replies and logs. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
