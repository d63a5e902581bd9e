# Copyright 2026 The masakari-monitors-k8s Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""What one Node watch event costs to decode, by decoder.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`), run on its own
with ``python -m masakarimonitors_k8s.bench.decoding``. At 5,000 nodes the
monitor receives about 17 Node watch events a second, each a whole Node
of about 14 KB, and keeps a few fields of each. This measures, on watch
lines built exactly like the ones the benchmark's kubelets cause (the
periodic status report of :mod:`masakarimonitors_k8s.testing.nodes`):

- the stream reader: how the bytes of a chunked HTTP body become lines;
- the JSON decoder: ``json.loads``, ``orjson.loads``, ``msgspec.json``
  without types, and ``msgspec.json`` into typed structs that declare only
  the fields the policy reads (the decoder skips the rest without building
  it);
- each followed by the translation to the compact state that the policy
  reads, so the numbers are the cost per event the monitor pays.

Decoders interleave round by round, and the figure is the median of the
rounds in process CPU time, so a second process on the machine moves all
of them alike and the ratios stay meaningful.
"""

import argparse
import json
import statistics
import time

from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import decoding as kube_decoding
from masakarimonitors_k8s.kube import nodes as kube_nodes
from masakarimonitors_k8s.testing import nodes as model_nodes


def watch_lines(count, *, now=1_780_000_000.0):
    """``count`` MODIFIED watch lines: kubelet status reports of Nodes."""
    lines = []
    for index in range(count):
        node = model_nodes.make_node('compute-%05d' % index, now=now,
                                     index=index)
        node['metadata']['resourceVersion'] = str(10_000 + index)
        model_nodes.apply_kubelet_status(node, now=now + 300)
        lines.append(json.dumps({'type': 'MODIFIED', 'object': node},
                                separators=(',', ':')).encode())
    return lines


def chunked(lines, chunk_size):
    body = b''.join(line + b'\n' for line in lines)
    return [body[i:i + chunk_size] for i in range(0, len(body), chunk_size)]


def read_concat(chunks):
    """The reader the monitor used before: grow one buffer, split it."""
    buffer = b''
    for chunk in chunks:
        buffer += chunk
        while b'\n' in buffer:
            line, buffer = buffer.split(b'\n', 1)
            if line.strip():
                yield line


def read_parts(chunks):
    """The monitor's reader (kube.client): keep the parts, join once."""
    return kube_client._lines(chunks)


def _decoders():
    import msgspec
    import orjson

    translator = kube_nodes.NodeTranslator()

    def with_json(line):
        return translator.translate(json.loads(line)['object'])

    def with_orjson(line):
        return translator.translate(orjson.loads(line)['object'])

    untyped = msgspec.json.Decoder()

    def with_msgspec(line):
        return translator.translate(untyped.decode(line)['object'])

    # The monitor's own decoder (kube.decoding): typed structs holding
    # only what the translator reads.
    typed = kube_decoding.NodeDecoder()

    def with_msgspec_typed(line):
        return translator.translate(typed.event(line)[1])

    return {'json': with_json, 'orjson': with_orjson,
            'msgspec': with_msgspec, 'msgspec-typed': with_msgspec_typed}


def measure(*, events=500, rounds=15, chunk_size=16384):
    lines = watch_lines(events)
    chunks = chunked(lines, chunk_size)
    results = {}

    def per_event(label, run):
        start = time.process_time()
        run()
        results.setdefault(label, []).append(
            (time.process_time() - start) / events)

    decoders = _decoders()
    expected = [decoders['json'](line) for line in lines]
    for name, decode in decoders.items():
        if [decode(line) for line in lines] != expected:
            raise AssertionError('%s translates differently' % name)
    for _ in range(rounds):
        per_event('reader: concat', lambda: list(read_concat(chunks)))
        per_event('reader: parts', lambda: list(read_parts(chunks)))
        for name, decode in decoders.items():
            per_event('decode+translate: ' + name,
                      lambda decode=decode: [decode(line) for line in lines])
    return {'event_bytes': statistics.median(len(line) for line in lines),
            'chunk_size': chunk_size,
            'per_event_ms': {label: statistics.median(samples) * 1000
                             for label, samples in results.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--events', type=int, default=500)
    parser.add_argument('--rounds', type=int, default=15)
    parser.add_argument('--chunk-size', type=int, default=16384)
    args = parser.parse_args(argv)
    report = measure(events=args.events, rounds=args.rounds,
                     chunk_size=args.chunk_size)
    print('median event: %d bytes; chunks of %d bytes'
          % (report['event_bytes'], report['chunk_size']))
    base = report['per_event_ms']['decode+translate: json']
    for label, ms in report['per_event_ms'].items():
        ratio = ('  (%.2f of json)' % (ms / base)
                 if label.startswith('decode') else '')
        print('%-32s %8.4f ms/event%s' % (label, ms, ratio))
    return report


if __name__ == '__main__':
    main()
