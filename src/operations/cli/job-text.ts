/** A rebuild or verify job as several commands print it: how long it took, and a verify's drift report. */
import type { JobView } from '../application/admin-views.js';
import { invocation } from './command.js';
import { count, duration, table } from './format.js';

/** From start to finish, or to now while the job runs. */
export function took(job: JobView): string {
  const end = job.finishedAt === null ? Date.now() : Date.parse(job.finishedAt);
  return duration(Math.max(0, end - Date.parse(job.startedAt)));
}

/** A verify's counts, a table of every drifted field, and what to do about them; '' for a rebuild. */
export function driftReport(job: JobView): string {
  const result = job.result;
  if (!result) return '';
  let text =
    `verify of ${job.projection}: ${count(result.compared)} documents compared, ${count(result.drifted)} drifted, ` +
    `${count(result.repaired)} repaired, ${count(result.pending)} pending ` +
    `(generation ${result.liveGeneration} against shadow ${result.shadowGeneration})\n`;
  if (result.drift.length > 0) {
    const rows = result.drift.flatMap((doc) =>
      doc.fields.length === 0
        ? [{ doc, field: '-', live: '-', expected: '-' }]
        : doc.fields.map((field) => ({
            doc,
            field: field.path,
            live: field.presence === 'expected-only' ? '(absent)' : JSON.stringify(field.live),
            expected: field.presence === 'live-only' ? '(absent)' : JSON.stringify(field.expected),
          })),
    );
    text += table(rows, [
      { header: 'COLLECTION', value: (r) => r.doc.collection },
      { header: 'ID', value: (r) => r.doc.id },
      { header: 'KIND', value: (r) => r.doc.kind },
      { header: 'REPAIRED', value: (r) => (r.doc.repaired ? 'yes' : 'no') },
      { header: 'FIELD', value: (r) => r.field },
      { header: 'LIVE', value: (r) => r.live, max: 40 },
      { header: 'EXPECTED', value: (r) => r.expected, max: 40 },
    ]);
  }
  if (result.truncated)
    text += `(the report lists the first ${count(result.drift.length)} drifted documents)\n`;
  if (result.pending > 0) {
    text += `${count(result.pending)} documents are not reached by the live projection yet (paused or lagging): neither drift nor verified\n`;
  }
  if (result.drifted > result.repaired && !job.repair) {
    text += `hint: "${invocation()} verify ${job.projection} --repair" writes the expected documents over the drifted ones\n`;
  }
  return text;
}
