#!/usr/bin/env node
// The `sim-cancel` bin. The CLI is TypeScript run through tsx, as `npm start` is: no build step to forget.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
