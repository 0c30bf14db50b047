/**
 * `npm run build:workflows`: bundles the workflow code once, ahead of time, into
 * dist/workflow-bundle/<hash of the sources>.js, where every worker start finds it instead of running
 * webpack again (the Dockerfile runs this; `npm start` caches the bundle by itself on its first start).
 */
import { buildWorkflowBundle, writeWorkflowBundle } from './temporal.ts';

const started = performance.now();
const path = writeWorkflowBundle(await buildWorkflowBundle());
console.log(`workflow bundle written to ${path} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
