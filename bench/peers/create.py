#!/usr/bin/env python3
"""The Python baseline of a create through the revision route, in the steps socrata-py takes (Socrata(auth).create(
name=...).csv(file), then revision.apply(output_schema=output)), written with the standard library only:
  POST /api/publishing/v1/revision (a new dataset: metadata, action) -> POST its source (an upload) ->
  initiate -> the file's bytes in chunks of the size and parallelism the server proposes -> commit ->
  poll the source until its output schema is finished -> PUT apply -> poll the job until it is successful.

usage: create.py <csv> <host:port> <name> [--https]
  The user and password come from SOCRATA_USERNAME / SOCRATA_PASSWORD (default: the emulator's publisher).
Prints one JSON line: {"fourfour": ..., "rows": ..., "bytes": ...}.
"""
import base64
import concurrent.futures
import http.client
import json
import os
import sys
import threading
import time

BASE = '/api/publishing/v1'


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    if len(args) != 3:
        sys.exit(__doc__)
    path, host, name = args
    https = '--https' in argv
    user = os.environ.get('SOCRATA_USERNAME', 'publisher@example.org')
    password = os.environ.get('SOCRATA_PASSWORD', 'publish-me')
    token = base64.b64encode(f'{user}:{password}'.encode()).decode()
    local = threading.local()

    def connection():
        # One keep-alive connection per thread (the chunk uploads run in parallel).
        if not hasattr(local, 'conn'):
            local.conn = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(host)
        return local.conn

    def call(method, url, body=None, content_type='application/json'):
        headers = {'Authorization': f'Basic {token}'}
        if body is not None:
            headers['Content-Type'] = content_type
            if content_type == 'application/json':
                body = json.dumps(body).encode('utf-8')
        conn = connection()
        conn.request(method, url, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        if res.status >= 300:
            raise RuntimeError(f'{method} {url}: HTTP {res.status}: {data[:300]!r}')
        return json.loads(data) if data else None

    def link(links, key, fallback, **values):
        url = links.get(key, fallback) if isinstance(links, dict) else fallback
        for k, v in values.items():
            url = url.replace('{' + k + '}', str(v))
        return url

    rev = call('POST', f'{BASE}/revision', {'metadata': {'name': name}, 'action': {'type': 'update', 'permission': 'private'}})
    fourfour = rev['resource']['fourfour']
    seq = rev['resource']['revision_seq']
    rev_path = f'{BASE}/revision/{fourfour}/{seq}'
    filename = os.path.basename(path)
    source = call('POST', link(rev.get('links'), 'create_source', f'{rev_path}/source'),
                  {'source_type': {'type': 'upload', 'filename': filename}, 'parse_options': {'parse_source': True}})
    sid = source['resource']['id']
    links = source.get('links', {})
    src_path = f'{BASE}/source/{sid}'

    init = call('POST', link(links, 'initiate', f'{src_path}/initiate'), {'content_type': 'text/csv'})
    init = init.get('resource', init) if isinstance(init, dict) else {}
    chunk_size = int(init.get('preferred_chunk_size') or 4 * 1024 * 1024)
    parallelism = int(init.get('preferred_upload_parallelism') or 1)
    size = os.path.getsize(path)
    count = max(1, -(-size // chunk_size))

    def send_chunk(n):
        with open(path, 'rb') as f:
            f.seek(n * chunk_size)
            data = f.read(chunk_size)
        call('POST', link(links, 'chunk', f'{src_path}/chunk/{{seq_num}}/{{byte_offset}}', seq_num=n, byte_offset=n * chunk_size),
             data, 'application/octet-stream')

    with concurrent.futures.ThreadPoolExecutor(max_workers=parallelism) as pool:
        for f in [pool.submit(send_chunk, n) for n in range(count)]:
            f.result()
    call('POST', link(links, 'commit', f'{src_path}/chunk/{{seq_num}}/{{byte_offset}}/commit', seq_num=count - 1, byte_offset=size))

    # Wait for the parse and the output schema (socrata-py: output_schema.wait_for_finish()).
    delay = 0.1
    while True:
        src = call('GET', link(links, 'show', src_path))['resource']
        if src.get('failed_at'):
            raise RuntimeError(f'the server could not read the file: {src.get("failure_details")}')
        schemas = src.get('schemas') or []
        outputs = schemas[-1].get('output_schemas') or [] if schemas else []
        if outputs and outputs[-1].get('finished_at'):
            output = outputs[-1]
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 2)

    job = call('PUT', link(rev.get('links'), 'apply', f'{rev_path}/apply'), {'output_schema_id': output['id']})
    job_path = job.get('links', {}).get('show', f'{rev_path}/apply/{job["resource"]["id"]}')
    delay = 0.1
    while True:
        status = call('GET', job_path)['resource'].get('status')
        if status == 'successful':
            break
        if status == 'failure':
            raise RuntimeError('the apply job failed')
        time.sleep(delay)
        delay = min(delay * 1.5, 2)
    print(json.dumps({'fourfour': fourfour, 'rows': output.get('total_rows'), 'bytes': size}))


if __name__ == '__main__':
    main(sys.argv[1:])
