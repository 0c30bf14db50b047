// Loaded by the worker (failureConverterPath) and used by the client: failure messages and stack traces
// go into the encoded attributes, so the payload codec encrypts them like any other payload.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
