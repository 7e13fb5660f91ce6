// The CLI is the package's bin: make the compiled entry executable after tsc writes it.
import { chmodSync, existsSync } from 'node:fs';
if (existsSync('dist/cli.js')) chmodSync('dist/cli.js', 0o755);
