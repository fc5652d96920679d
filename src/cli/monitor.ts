import type { Command } from '@oclif/core';
import type { BoosterClient } from '../client/client';
import type { WireMessage } from '../network/link/protocol';

/**
 * Streams a monitor feature until the node closes the link or the user presses
 * Ctrl-C; `tap` (a recorder) sees every message first.
 */
export function streamMonitor(
  command: Command,
  client: BoosterClient,
  feature: 'node' | 'net',
  render: (m: WireMessage) => string | undefined,
  json: boolean,
  tap?: (m: WireMessage) => void,
): Promise<void> {
  return new Promise((resolve) => {
    const stop = client.monitor(
      feature,
      (m) => {
        if (m.kind === 'result') return;
        tap?.(m);
        if (json) command.log(JSON.stringify(m));
        else {
          const line = render(m);
          if (line) command.log(line);
        }
      },
      (reason) => {
        process.off('SIGINT', onSignal);
        command.logToStderr(`node closed the monitor stream (${reason})`);
        resolve();
      },
    );
    const onSignal = () => {
      process.off('SIGINT', onSignal);
      stop();
      resolve();
    };
    process.on('SIGINT', onSignal);
  });
}
