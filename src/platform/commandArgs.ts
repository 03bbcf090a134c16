import { type z } from 'zod';
import { describeZodError } from '../environment/zodErrors';

/**
 * Checks the arguments a command was given as an object (by a test, another command, a keybinding or a
 * walkthrough link) against its schema. A wrong or unknown field is an error that names the command and
 * the field, never a default silently taking its place.
 */
export function parseCommandArgs<S extends z.ZodType>(schema: S, value: unknown, command: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${command}: invalid arguments: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
