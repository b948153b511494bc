/** Periodic progress lines (files, bytes, rate) while a model downloads, and the closing summary. */
import type { Logger } from '../log.js';

export interface DownloadSummary {
  files: number;
  bytes: number;
  seconds: number;
  /** Bytes per second over the whole download. */
  rate: number;
}

const MB = 1024 * 1024;

export class Progress {
  private bytes = 0;
  private filesDone = 0;
  private readonly startedAt = performance.now();
  private lastBytes = 0;
  private lastAt = this.startedAt;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly totalFiles: number,
    private readonly totalBytes: number | undefined,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.report(), intervalMs);
    this.timer.unref();
  }

  /** Bytes received (negative when a file restarts from zero). */
  add(n: number): void {
    this.bytes += n;
  }

  fileDone(): void {
    this.filesDone++;
  }

  private report(): void {
    const now = performance.now();
    const rate = ((this.bytes - this.lastBytes) / MB / ((now - this.lastAt) / 1000)).toFixed(1);
    this.lastBytes = this.bytes;
    this.lastAt = now;
    this.logger.info(
      { files: `${this.filesDone}/${this.totalFiles}`, bytes: this.bytes, totalBytes: this.totalBytes, rateMBps: Number(rate) },
      `downloaded ${(this.bytes / MB).toFixed(1)} MiB${this.totalBytes === undefined ? '' : ` of ${(this.totalBytes / MB).toFixed(1)} MiB`} (${rate} MiB/s)`,
    );
  }

  stop(): DownloadSummary {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1000;
    return { files: this.filesDone, bytes: this.bytes, seconds, rate: this.bytes / Math.max(seconds, 1e-6) };
  }
}
