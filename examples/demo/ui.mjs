// The demo's console output: colours, one live status line, number formats.

const TTY = Boolean(process.stdout.isTTY);
const paint = (code) => (s) => (TTY ? `\x1b[${code}m${s}\x1b[0m` : s);

export const isTty = TTY;
export const bold = paint("1");
export const dim = paint("2");
export const green = paint("32");
export const red = paint("31");
export const cyan = paint("36");

/** One status line: rewritten in place on a terminal, printed every few seconds otherwise. */
export function progress() {
  let lastPlain = 0;
  let width = 0;
  return {
    update(text, force = false) {
      if (TTY) {
        const pad = Math.max(0, width - text.length);
        width = text.length;
        process.stdout.write("\r" + text + " ".repeat(pad));
      } else if (force || performance.now() - lastPlain > 2000) {
        lastPlain = performance.now();
        console.log(text);
      }
    },
    done(text) {
      if (TTY) process.stdout.write("\r" + text + " ".repeat(Math.max(0, width - text.length)) + "\n");
      else console.log(text);
      width = 0;
    },
  };
}

export const fmt = {
  int: (n) => Math.round(n).toLocaleString("en-US"),
  mb: (b) => (b / 1e6).toFixed(1) + " MB",
  s: (ms) => (ms / 1000).toFixed(1) + " s",
  eta: (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}` : "--:--"),
};

export function step(title) {
  console.log(`${cyan("▸")} ${bold(title)}`);
}
