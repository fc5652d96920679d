import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * The page and its chart library, read once when the dashboard starts and
 * served from memory: uPlot's dist files come from node_modules, so the page
 * works offline (no CDN).
 */
export async function loadAssets(): Promise<ReadonlyMap<string, Asset>> {
  const own = path.join(path.dirname(require.resolve('@booster/plugin-http/package.json')), 'static');
  const uplot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const files: [route: string, file: string, type: string][] = [
    ['/', path.join(own, 'dashboard.html'), 'text/html; charset=utf-8'],
    ['/login', path.join(own, 'login.html'), 'text/html; charset=utf-8'],
    ['/dashboard.js', path.join(own, 'dashboard.js'), 'text/javascript; charset=utf-8'],
    ['/dashboard.css', path.join(own, 'dashboard.css'), 'text/css; charset=utf-8'],
    ['/uPlot.iife.min.js', path.join(uplot, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/uPlot.min.css', path.join(uplot, 'uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  const assets = new Map<string, Asset>();
  for (const [route, file, contentType] of files) assets.set(route, { contentType, body: await readFile(file) });
  return assets;
}
