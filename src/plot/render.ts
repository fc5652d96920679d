import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { PlotSeries, SeriesPoint } from './series';

export interface PlotOptions {
  readonly title?: string;
  readonly width?: number;
}

/**
 * The thesis's figure as one SVG, drawn by Vega-Lite: open connections per
 * source over time above download throughput per source, on one time axis.
 */
export async function renderSvg(series: PlotSeries, options: PlotOptions = {}): Promise<string> {
  const width = options.width ?? 720;
  const domain = [0, Math.max(series.duration, 1)];
  const panel = (values: SeriesPoint[], title: string, yTitle: string, interpolate: 'step-after' | 'linear') => ({
    title,
    width,
    height: 220,
    data: { values },
    mark: { type: 'line' as const, interpolate, point: values.length < 60 },
    encoding: {
      x: { field: 't', type: 'quantitative' as const, title: 'time since start (s)', scale: { domain, nice: false } },
      y: { field: 'value', type: 'quantitative' as const, title: yTitle },
      color: { field: 'source', type: 'nominal' as const, title: 'source', legend: { orient: 'right' as const, labelLimit: 320 } },
    },
  });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    ...(options.title ? { title: options.title } : {}),
    background: 'white',
    // One colour scale and legend for both panels (Vega-Lite's default for concatenated views): a source keeps its colour.
    vconcat: [
      panel(series.connections, 'Open connections per source', 'open connections', 'step-after'),
      panel(series.throughput, 'Download throughput per source', 'throughput (Mbit/s)', 'linear'),
    ],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
