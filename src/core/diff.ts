// Unified diffs for the plan view. The line diff itself is jsdiff's (`diff`, the standard one);
// only the text around it is ours, so the headers are exactly `--- a/path` / `+++ b/path`.
import { structuredPatch } from 'diff';

/** '' when the texts are equal. Hunks carry 3 lines of context, like `diff -u`. */
export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const rel = path.replace(/^\/+/, '');
  const patch = structuredPatch(`a/${rel}`, `b/${rel}`, before, after, undefined, undefined, { context });
  const out = [`--- a/${rel}`, `+++ b/${rel}`];
  for (const h of patch.hunks) {
    // GNU diff names the line *before* an empty range (`-0,0` for an empty old file).
    const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    out.push(`@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`, ...h.lines);
  }
  return `${out.join('\n')}\n`;
}
