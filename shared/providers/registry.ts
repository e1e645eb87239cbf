/**
 * Every provider the gateway talks to. Only tooling reads this list (the configuration schema, CDK, the local runner,
 * the harness); a Lambda handler reaches its own provider through its operation, so its bundle holds no other client.
 */
import { esimGo } from './esim-go/provider.js';
import { monogoto } from './monogoto/provider.js';
import type { AnyProvider } from './provider.js';
import { stn } from './stn/provider.js';

export const providers: readonly AnyProvider[] = [monogoto, esimGo, stn];
