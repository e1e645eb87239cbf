/**
 * The part of zod the Lambda code uses, as named exports. Import it as `import * as z from '../zod.js'`.
 * Why not `import { z } from 'zod'`: that `z` is a namespace object zod exports as a value, so esbuild must keep every
 * export behind it, its 40-odd locales included: 444 kB of each bundle, against 85 kB this way (npm run bench).
 */
export {
  array,
  boolean,
  coerce,
  email,
  enum,
  looseObject,
  number,
  object,
  strictObject,
  string,
  union,
  unknown,
  url,
} from 'zod';
export type { RefinementCtx, ZodObject, ZodRawShape, ZodType, core, infer } from 'zod';
