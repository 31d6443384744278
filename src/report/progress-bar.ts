/** Something that shows how far a long job is. */
export interface Progress {
  update(done: number): void;
  /** Clears the line (or ends it) once the job is over. */
  finish(): void;
}

/**
 * A one-line text progress bar (`\r` redraws it): `label [#######.......]  45% 45,000/100,000`. Redrawn
 * at most once per percent, so a million updates write about a hundred lines. Without a total it shows
 * the count only.
 */
export function progressBar(write: (text: string) => void, label: string, total: number | null): Progress {
  let shown = -1;
  let drawn = false;
  const width = 30;
  return {
    update(done) {
      if (total !== null && total > 0) {
        const percent = Math.min(100, Math.floor((done / total) * 100));
        if (percent === shown) return;
        shown = percent;
        const filled = Math.round((percent / 100) * width);
        write(
          `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}% ` +
            `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`,
        );
      } else {
        const step = Math.floor(done / 10_000);
        if (step === shown) return;
        shown = step;
        write(`\r${label} ${done.toLocaleString('en-US')}`);
      }
      drawn = true;
    },
    finish() {
      if (drawn) write('\n');
      drawn = false;
    },
  };
}
