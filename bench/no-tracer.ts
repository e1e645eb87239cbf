/**
 * Stands in for the Powertools Tracer in one benchmark variant only (never shipped): what the X-Ray SDK behind it costs
 * in bundle size and import time, measured beside the shipped bundle.
 */
export class Tracer {}
export const captureLambdaHandler = () => ({ before: () => undefined });
