/**
 * The notification bell's request: asked for early by first-load.ts and then by the bell itself, which takes
 * that answer only if the two ask for the same address. Kept here, without React or antd, for both.
 */
export const BELL_PATH = '/api/v1/notifications';
export const BELL_QUERY = { limit: 20 };
