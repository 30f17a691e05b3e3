#!/usr/bin/env python3
"""The Python baseline of an upsert, written the way scripts built on the widely used Python client (sodapy) do it:
csv.DictReader, batches of 10,000 row dicts, json.dumps, one POST per batch to /resource/<4x4>.json over one
keep-alive connection with HTTP Basic authentication. The cells are sent as the text the CSV holds.

usage: upsert.py <csv> <host:port> <4x4> [--requests] [--https] [--delete=<id column>] [--sync=<id column>]
  The user and password come from SOCRATA_USERNAME / SOCRATA_PASSWORD (default: the emulator's publisher).
  --requests: send with a requests.Session (what sodapy uses) instead of the standard library's http.client.
  --delete=<id column>: delete the listed rows instead: each row is sent as {<id column>: <id>, ":deleted": true}.
  --sync=<id column>: make the dataset hold exactly the file's rows: read the dataset's ids first (paged SoQL,
    $select=<id>, $order=:id, 50,000 a page), upsert every row of the file, then delete the ids the file did not list
    (batches of {<id column>: <id>, ":deleted": true}).
Prints one JSON line: {"rows": ..., "created": ..., "updated": ..., "requests": ...}.
"""
import base64
import csv
import http.client
import json
import os
import sys
import urllib.parse

BATCH = 10_000


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    if len(args) != 3:
        sys.exit(__doc__)
    path, host, fourfour = args
    https = '--https' in argv
    delete = next((a[len('--delete='):] for a in argv if a.startswith('--delete=')), None)
    sync = next((a[len('--sync='):] for a in argv if a.startswith('--sync=')), None)
    user = os.environ.get('SOCRATA_USERNAME', 'publisher@example.org')
    password = os.environ.get('SOCRATA_PASSWORD', 'publish-me')
    resource = f'/resource/{fourfour}.json'
    totals = {'rows': 0, 'created': 0, 'updated': 0, 'deleted': 0, 'requests': 0}

    if '--requests' in argv:
        import requests  # only when asked: not part of the standard library

        session = requests.Session()
        session.auth = (user, password)
        session.headers['Content-Type'] = 'application/json'
        url = f"{'https' if https else 'http'}://{host}{resource}"

        def post(body):
            res = session.post(url, data=body)
            res.raise_for_status()
            return res.json()

        def get(query):
            res = session.get(url, params=query)
            res.raise_for_status()
            return res.json()
    else:
        conn = (http.client.HTTPSConnection if https else http.client.HTTPConnection)(host)
        token = base64.b64encode(f'{user}:{password}'.encode()).decode()
        headers = {'Authorization': f'Basic {token}', 'Content-Type': 'application/json'}

        def post(body):
            conn.request('POST', resource, body=body.encode('utf-8'), headers=headers)
            res = conn.getresponse()
            data = res.read()
            if res.status != 200:
                raise RuntimeError(f'HTTP {res.status}: {data[:200]!r}')
            return json.loads(data)

        def get(query):
            conn.request('GET', f'{resource}?{urllib.parse.urlencode(query)}', headers=headers)
            res = conn.getresponse()
            data = res.read()
            if res.status != 200:
                raise RuntimeError(f'HTTP {res.status}: {data[:200]!r}')
            return json.loads(data)

    def send(batch):
        answer = post(json.dumps(batch))
        totals['created'] += answer.get('Rows Created', 0)
        totals['updated'] += answer.get('Rows Updated', 0)
        totals['deleted'] += answer.get('Rows Deleted', 0)
        totals['requests'] += 1

    remote = set()
    if sync:
        offset = 0
        while True:
            page = get({'$select': sync, '$order': ':id', '$limit': 50_000, '$offset': offset})
            remote.update(r[sync] for r in page if r.get(sync) is not None)
            if len(page) < 50_000:
                break
            offset += len(page)

    with open(path, newline='', encoding='utf-8') as f:
        batch = []
        for row in csv.DictReader(f):
            if sync:
                remote.discard(row[sync])
            batch.append({delete: row[delete], ':deleted': True} if delete else row)
            if len(batch) == BATCH:
                send(batch)
                totals['rows'] += len(batch)
                batch = []
        if batch:
            send(batch)
            totals['rows'] += len(batch)
    gone = sorted(remote)
    for i in range(0, len(gone), BATCH):
        send([{sync: id, ':deleted': True} for id in gone[i:i + BATCH]])
    print(json.dumps(totals))


if __name__ == '__main__':
    main(sys.argv[1:])
