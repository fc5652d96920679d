import * as fs from 'node:fs';
import * as path from 'node:path';
import { Args, Flags } from '@oclif/core';
import { BoosterCommand, UsageError } from '../cli/base';
import { parseRecord } from '../cli/record';
import { renderSvg } from '../plot/render';
import { seriesOf } from '../plot/series';

export default class Plot extends BoosterCommand {
  static override description = 'Draw a recording (monitor --record, speedtest --record) as an SVG: open connections and throughput per source over time';
  static override examples = ['<%= config.bin %> plot run.jsonl -o run.svg'];
  static override args = {
    file: Args.string({ required: true, description: 'a recording: JSON lines written by --record' }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', description: 'the SVG file to write', required: true }),
    title: Flags.string({ description: "a title above the figure [default: the recording's node and date]" }),
    json: Flags.boolean({ description: 'print what was drawn (series and points) as JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plot);
    let text: string;
    try {
      text = await fs.promises.readFile(args.file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read recording ${args.file}: ${(err as Error).message}`);
    }
    const { header, lines } = parseRecord(text, args.file);
    const series = seriesOf(header.t, lines);
    const title = flags.title ?? `node ${header.node}, ${new Date(header.t).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    const svg = await renderSvg(series, { title });
    await fs.promises.writeFile(flags.output, svg);
    const sources = (points: { source: string }[]) => [...new Set(points.map((p) => p.source))];
    if (flags.json) {
      this.log(
        JSON.stringify(
          { output: path.resolve(flags.output), duration: series.duration, connections: sources(series.connections), throughput: sources(series.throughput) },
          null,
          2,
        ),
      );
    } else {
      this.log(
        `wrote ${flags.output}: ${series.duration.toFixed(1)} s, ${sources(series.connections).length} source(s) with connections, ${sources(series.throughput).length} with throughput`,
      );
    }
  }
}
