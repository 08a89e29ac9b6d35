#!/usr/bin/env node
/** The `tcpinfo` bin: the command line (cli.ts) on this process's arguments; its result is the exit status. */
import { EXIT_FAILURE } from './args.js';
import { runCli } from './cli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tcpinfo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
