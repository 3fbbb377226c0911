import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
export const ALERTS_FILE = resolve(ROOT, 'deploy/prometheus/alerts.yml');
export const RUNBOOK_FILE = resolve(ROOT, 'docs/runbook.md');

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly runbookUrl: string | null;
}

/**
 * The alerting rules of deploy/prometheus/alerts.yml, read the way the file is written: `- alert:` items with
 * an `expr:` (inline, or a block scalar), `labels:` and `annotations:` maps. promtool (scripts/promtool.sh) reads it as
 * the YAML it is; this reader refuses anything it does not recognise rather than guessing, and the test that uses
 * it checks it found as many rules as the file has `alert:` lines.
 */
export function readAlertRules(text = readFileSync(ALERTS_FILE, 'utf8')): AlertRule[] {
  const lines = text.split('\n');
  const rules: AlertRule[] = [];
  const indentOf = (line: string): number => line.length - line.trimStart().length;
  for (let i = 0; i < lines.length; i++) {
    const start = /^(\s*)- alert: (\S+)\s*$/.exec(lines[i]!);
    if (!start) continue;
    const itemIndent = start[1]!.length + 2;
    let expr: string | null = null;
    const labels: Record<string, string> = {};
    let runbookUrl: string | null = null;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      if (indentOf(line) < itemIndent) break;
      const key = /^\s*(expr|labels|annotations|for):\s*(.*)$/.exec(line);
      if (!key || indentOf(line) !== itemIndent) continue;
      if (key[1] === 'expr') {
        if (key[2] === '|' || key[2] === '|-' || key[2] === '>-') {
          const body: string[] = [];
          for (
            j += 1;
            j < lines.length && (lines[j]!.trim() === '' || indentOf(lines[j]!) > itemIndent);
            j++
          ) {
            body.push(lines[j]!);
          }
          j -= 1;
          expr = body.join('\n').trim();
        } else expr = key[2]!.trim();
      } else if (key[1] === 'labels' || key[1] === 'annotations') {
        for (j += 1; j < lines.length && indentOf(lines[j]!) > itemIndent; j++) {
          const pair = /^\s*([a-z_]+):\s*(.*)$/.exec(lines[j]!);
          if (!pair) continue;
          const value = pair[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
          if (key[1] === 'labels') labels[pair[1]!] = value;
          else if (pair[1] === 'runbook_url') runbookUrl = value;
        }
        j -= 1;
      }
    }
    if (expr === null) throw new Error(`alert ${start[2]} has no expr this reader understands`);
    rules.push({ alert: start[2]!, expr, labels, runbookUrl });
    i = j - 1;
  }
  return rules;
}

/** The `## <Alert>` section of docs/runbook.md (up to the next `## `), or null. */
export function runbookSection(alert: string, text = readFileSync(RUNBOOK_FILE, 'utf8')): string | null {
  const start = text.indexOf(`\n## ${alert}\n`);
  if (start < 0) return null;
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start + 1, end < 0 ? undefined : end);
}

/** The command lines of a runbook section's ```bash blocks. */
export function runbookCommands(alert: string): string[] {
  const section = runbookSection(alert);
  if (section === null) throw new Error(`docs/runbook.md has no section for ${alert}`);
  const commands: string[] = [];
  const blocks = /```bash\n([\s\S]*?)```/g;
  for (let block = blocks.exec(section); block; block = blocks.exec(section)) {
    commands.push(...block[1]!.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')));
  }
  return commands;
}

/** The one command of a runbook section that matches `pattern` (throws when there is none: the runbook changed). */
export function runbookCommand(alert: string, pattern: RegExp): string {
  const found = runbookCommands(alert).filter((line) => pattern.test(line));
  if (found.length === 0) throw new Error(`docs/runbook.md, ${alert}: no command matches ${pattern}`);
  return found[0]!;
}
