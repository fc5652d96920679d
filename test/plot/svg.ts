import { XMLParser } from 'fast-xml-parser';

type XmlNode = Record<string, unknown>;

export interface SvgAxis {
  readonly label: string;
  readonly ticks: readonly number[];
}

export interface SvgPanel {
  /** One entry per drawn line: the series' source, from the path's own label. */
  readonly lines: readonly string[];
  readonly axes: readonly SvgAxis[];
}

export interface ParsedFigure {
  readonly panels: readonly SvgPanel[];
  readonly legend: readonly string[];
}

/** Reads a Vega-rendered figure back: lines per panel, axis titles and tick labels, legend entries. */
export function parseFigure(svg: string): ParsedFigure {
  const root = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    preserveOrder: false,
    isArray: (name) => name === 'g' || name === 'path' || name === 'text',
  }).parse(svg) as XmlNode;
  const groups: XmlNode[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      const node = n as XmlNode;
      if (typeof node['@class'] === 'string') groups.push(node);
      Object.entries(node).forEach(([k, v]) => !k.startsWith('@') && walk(v));
    }
  };
  walk(root);
  const cls = (g: XmlNode) => String(g['@class']);
  const texts = (g: XmlNode) => ((g.text as unknown[]) ?? []).map((t) => String(typeof t === 'object' ? (t as XmlNode)['#text'] : t));
  const panels: SvgPanel[] = [];
  for (let i = 0; ; i++) {
    const scope = groups.find((g) => cls(g).includes(`concat_${i}_group`));
    if (!scope) break;
    const inner: XmlNode[] = [];
    const collect = (n: unknown) => {
      if (Array.isArray(n)) n.forEach(collect);
      else if (n && typeof n === 'object') {
        if (typeof (n as XmlNode)['@class'] === 'string') inner.push(n as XmlNode);
        Object.entries(n as XmlNode).forEach(([k, v]) => !k.startsWith('@') && collect(v));
      }
    };
    collect(scope);
    // Vega draws each series of a line mark in its own group, one path each.
    const lineGroups = inner.filter((g) => cls(g).includes(`mark-line role-mark concat_${i}_layer_0_marks`));
    const lines = lineGroups.flatMap((g) => (g.path as XmlNode[]) ?? []).map((p) => String(p['@aria-label']).match(/source: (.*)$/)?.[1] ?? '');
    const axes = inner
      .filter((g) => cls(g).includes('role-axis') && g['@aria-roledescription'] === 'axis')
      .map((g) => {
        const labels = inner.slice(inner.indexOf(g)).find((x) => cls(x).includes('role-axis-label'));
        return { label: String(g['@aria-label']), ticks: labels ? texts(labels).map((t) => Number(t.replace(/,/g, ''))) : [] };
      });
    panels.push({ lines, axes });
  }
  return { panels, legend: groups.filter((g) => cls(g).includes('role-legend-label')).flatMap(texts) };
}
