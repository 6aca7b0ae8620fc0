// Wire details shared by the web transport (src-main) and the renderer's API client.
// HTTP: POST {API_PREFIX}<method> with body {"args": [...]} → 200 {"result": …} or 4xx/5xx ApiErrorBody.
// Auth: every request carries the session token (header `Authorization: Bearer <token>` or `?token=`);
// the page itself is opened as `http://127.0.0.1:<port>/?token=<token>`.
// Events: a WebSocket at EVENTS_PATH?token=<token> sends one JSON WorkbenchEvent per message.
// Uploads (web mode dataset import): POST UPLOAD_PATH?name=<file name> with the raw file as body → {"uploadId"}.
// Electron: the preload exposes `window.deepbern` = one function per API method plus `onEvent(cb)` and
// `pickFile()`; the client prefers it when present.
export const API_PREFIX = '/api/';
export const EVENTS_PATH = '/events';
export const UPLOAD_PATH = '/upload';
export const TOKEN_PARAM = 'token';
export const BRIDGE_GLOBAL = 'deepbern';
/**
 * Electron's contextBridge keeps only an Error's message, so the preload writes the error body into it after
 * this prefix (`deepbern-error:{"error":…,"kind":…}`) and the client reads the kind back.
 */
export const BRIDGE_ERROR_PREFIX = 'deepbern-error:';
