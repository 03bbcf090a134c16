import { z } from 'zod';

/**
 * Which behaviour a run, an export or a score follows where the studio and the method's reference
 * implementation differ (docs/COMPATIBILITY.md lists every difference). `reference` reproduces the paper's
 * way of measuring and of building training data; `studio` keeps the studio's corrections. Recorded in every
 * run manifest and export header, so a number can always be traced to the rules that produced it.
 */
export const compatibilitySchema = z.enum(['studio', 'reference']);
export type Compatibility = z.infer<typeof compatibilitySchema>;
export const compatibilities = compatibilitySchema.options;

/** How each compatibility profile is named wherever both accuracies are shown. */
export const profileLabels: Record<Compatibility, string> = {
  reference: "Paper's scoring (reference)",
  studio: 'Corrected (studio)',
};

/** The profile a trajectory was made under (records made before profiles existed were the studio's). */
export function compatibilityOfTrajectory(t: { origin: { compatibility?: Compatibility } }): Compatibility {
  return t.origin.compatibility ?? 'studio';
}
