import { Flags } from '@oclif/core';
import { DATA_DIR_HELP } from '../kernel/data-dir';

/** --data-dir and --key-file, as every command that needs the network key spells them; `keyFile` says what the file is for there. */
export function keyLocationFlags(keyFile: string) {
  return {
    'data-dir': Flags.string({ description: `where the node keeps its state, such as network.key [default: ${DATA_DIR_HELP}]` }),
    'key-file': Flags.string({ description: keyFile }),
  };
}

/** Errors and warnings reach stderr with --json too (oclif's logToStderr is silent then). */
export function stderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
