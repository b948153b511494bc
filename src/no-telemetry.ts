/**
 * Turns onnxruntime's telemetry off before the native library loads. Since 1.22 its Linux build
 * starts a client for Microsoft's event collector (mobile.events.data.microsoft.com) when it
 * creates its environment: a DNS lookup at every start, uploads where a CA bundle is found, and a
 * plain-text warning where none is. A server must make no connection it was not asked for.
 *
 * The library reads ORT_DISABLE_TELEMETRY from the process environment once, at load; assigning
 * process.env on the main thread sets the real environment, which worker threads' native code
 * reads too. Import this module first in every entry point (server, worker, storage initializer).
 * A user who wants telemetry sets ORT_DISABLE_TELEMETRY=0 explicitly.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
