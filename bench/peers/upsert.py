#!/usr/bin/env python3
"""The Python baseline of an upsert, written the way scripts built on the widely used Python client (sodapy) do it:
csv.DictReader, batches of 10,000 row dicts, json.dumps, one POST per batch to /resource/<4x4>.json over one
keep-alive connection with HTTP Basic authentication. The cells are sent as the text the CSV holds.

usage: upsert.py <csv> <host:port> <4x4> [--requests] [--https] [--delete=<id column>]
  The user and password come from SOCRATA_USERNAME / SOCRATA_PASSWORD (default: the emulator's publisher).
  --requests: send with a requests.Session (what sodapy uses) instead of the standard library's http.client.
  --delete=<id column>: delete the listed rows instead: each row is sent as {<id column>: <id>, ":deleted": true}.
Prints one JSON line: {"rows": ..., "created": ..., "updated": ..., "requests": ...}.
"""
import base64
import csv
import http.client
import json
import os
import sys

BATCH = 10_000


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    if len(args) != 3:
        sys.exit(__doc__)
    path, host, fourfour = args
    https = '--https' in argv
    delete = next((a[len('--delete='):] for a in argv if a.startswith('--delete=')), None)
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

    def send(batch):
        answer = post(json.dumps(batch))
        totals['created'] += answer.get('Rows Created', 0)
        totals['updated'] += answer.get('Rows Updated', 0)
        totals['deleted'] += answer.get('Rows Deleted', 0)
        totals['requests'] += 1

    with open(path, newline='', encoding='utf-8') as f:
        batch = []
        for row in csv.DictReader(f):
            batch.append({delete: row[delete], ':deleted': True} if delete else row)
            if len(batch) == BATCH:
                send(batch)
                totals['rows'] += len(batch)
                batch = []
        if batch:
            send(batch)
            totals['rows'] += len(batch)
    print(json.dumps(totals))


if __name__ == '__main__':
    main(sys.argv[1:])
