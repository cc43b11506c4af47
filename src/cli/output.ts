import { styleText } from 'node:util';

type Style = 'red' | 'green' | 'yellow' | 'gray' | 'bold';

/** Where the CLI writes: data to stdout, messages to stderr; colour only on a terminal, never with NO_COLOR or --no-color. */
export class Output {
  readonly color: boolean;

  constructor(
    private readonly stdout: NodeJS.WriteStream,
    private readonly stderr: NodeJS.WriteStream,
    colorWanted: boolean,
  ) {
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '';
    this.color = colorWanted && !noColor && stdout.isTTY === true;
  }

  data(line: string): void {
    this.stdout.write(`${line}\n`);
  }

  json(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  message(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  paint(text: string, style: Style): string {
    return this.color ? styleText(style, text) : text;
  }

  /** The colour a lamp word is shown in, as the phones show it. */
  lamp(state: string): string {
    if (state === 'early') return this.paint(state, 'red');
    if (state === 'confirmed') return this.paint(state, 'red');
    if (state === 'terminated') return this.paint(state, 'green');
    return state;
  }
}

/** Columns padded to their widest cell (the last column is not padded). */
export function table(rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return [];
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell).length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visible(cell).length))).join('  ').trimEnd());
}

/** Text without ANSI colour sequences (for widths). */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
