/**
 * A duration as the host's progress lines, notifications and CLI print it: `42s`, `3m05s`, `1h02m`.
 * `missing` stands in for an unknown duration (an ETA before the first question finished).
 */
export function formatDuration(ms: number | null | undefined, missing = '--'): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return missing;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
