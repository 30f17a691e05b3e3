// Dataset Management API (DSMAPI) client, re-exported from its parts, src/soda/dsmapi*.ts: types (transport seam,
// errors, shapes), paths, client (one method per endpoint), upload (chunked) and runner (end-to-end flows).
export * from './dsmapiTypes';
export { assertFourfour, followLink, paths } from './dsmapiPaths';
export { RevisionsClient, type RevisionsClientOptions, transportFromHttp } from './dsmapiClient';
export { type ChunkedUploadOptions, uploadFileChunked } from './dsmapiUpload';
export * from './dsmapiRunner';
