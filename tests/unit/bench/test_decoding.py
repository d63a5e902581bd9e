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

"""The decoder measurement compares like with like (no timing asserted)."""

import pytest

from masakarimonitors_k8s.bench import decoding

pytest.importorskip('msgspec')
pytest.importorskip('orjson')


@pytest.mark.parametrize('chunk_size', [1, 7, 4096, 1 << 20])
def test_both_readers_yield_the_same_lines_whatever_the_chunking(
        chunk_size):
    lines = decoding.watch_lines(3) + [b'{"type":"BOOKMARK"}']
    chunks = decoding.chunked(lines, chunk_size)
    assert list(decoding.read_parts(chunks)) == lines
    assert list(decoding.read_concat(chunks)) == lines


def test_every_decoder_yields_the_state_json_does():
    lines = decoding.watch_lines(5)
    decoders = decoding._decoders()
    expected = [decoders['json'](line) for line in lines]
    assert all(state.ready == 'True' for state in expected)
    for name, decode in decoders.items():
        assert [decode(line) for line in lines] == expected, name


def test_measure_reports_every_reader_and_decoder():
    report = decoding.measure(events=3, rounds=1)
    assert set(report['per_event_ms']) == {
        'reader: concat', 'reader: parts',
        'decode+translate: json', 'decode+translate: orjson',
        'decode+translate: msgspec', 'decode+translate: msgspec-typed'}
    assert report['event_bytes'] > 10_000
