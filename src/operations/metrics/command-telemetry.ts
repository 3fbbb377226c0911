import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { CommandObserver, type CommandReport } from '../../write-path/command-observer.js';
import { AppMetrics, commandOutcome } from './app-metrics.js';

/**
 * What the write path tells operations about each command: the metrics, and at debug level one log line
 * per command naming its stream, revision and the ids of the events it appended — with the correlation id
 * of the request (or event) that caused it, from the log context. With debug off, the line costs one
 * level check.
 */
@Injectable()
export class CommandTelemetry extends CommandObserver {
  constructor(
    private readonly metrics: AppMetrics,
    private readonly log: PinoLogger,
  ) {
    super();
    this.log.setContext('CommandExecutor');
  }

  commandEnded(report: CommandReport): void {
    const outcome = commandOutcome(report);
    this.metrics.command(report, outcome);
    if (this.log.logger.isLevelEnabled('debug')) {
      this.log.debug(
        {
          command: report.command,
          streamId: report.streamId,
          outcome,
          revision: report.revision === null ? null : String(report.revision),
          eventIds: report.eventIds,
          conflicts: report.conflicts,
          durationMs: Math.round(report.seconds * 100_000) / 100,
        },
        report.appended > 0 ? 'events appended' : 'command ended',
      );
    }
  }
}
