// Dataset Management API (DSMAPI) client, re-exported from its parts in ./dsmapi: types (transport seam,
// errors, shapes), paths, client (one method per endpoint), upload (chunked) and runner (end-to-end flows).
export * from './dsmapi/types';
export { assertFourfour, followLink, paths } from './dsmapi/paths';
export { RevisionsClient, type RevisionsClientOptions, transportFromHttp } from './dsmapi/client';
export { type ChunkedUploadOptions, uploadFileChunked } from './dsmapi/upload';
export * from './dsmapi/runner';
