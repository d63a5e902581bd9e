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

"""Fixtures shared by the functional suite.

Masakari (see masakarimonitors_k8s/testing/masakari_api.py):

* ``masakari_api_server`` (session): one real masakari-api for the whole
  run; starting one costs about 2 s.
* ``masakari`` (function): a fresh failover segment on that server. Hosts
  of a segment with an unprocessed notification cannot be changed, and
  host names are unique per database, so every test gets its own segment
  and takes host names from ``masakari.host_names()``.
* ``fresh_masakari`` (function): a factory for a masakari-api with its own
  database, for tests that need another duplicate interval or that stop,
  pause or break the API.
"""

import itertools
import re

import pytest

from masakarimonitors_k8s.testing import masakari_api


class SegmentUnderTest:
    """One test's failover segment on a real masakari-api."""

    def __init__(self, api, *, segment_uuid, host_stem):
        self.api = api
        self.segment_uuid = segment_uuid
        self._host_stem = host_stem
        self._host_numbers = itertools.count(1)

    @property
    def url(self):
        return self.api.url

    def host_names(self, count, *, stem='compute'):
        """Host names no other test of the session uses.

        They are valid Kubernetes node names as well, so a test can name
        its nodes after them.
        """
        return ['%s-%s-%04d' % (stem, self._host_stem,
                                next(self._host_numbers))
                for _ in range(count)]

    def add_hosts(self, names, **attributes):
        """Register hosts in this segment; returns their names."""
        self.api.add_hosts(self.segment_uuid, names, **attributes)
        return list(names)

    def set_maintenance(self, hostname, on_maintenance):
        self.api.set_maintenance(hostname, on_maintenance)

    def notifications(self, hostname=None):
        """This segment's notifications, oldest first."""
        return self.api.notifications(hostname,
                                      segment_uuid=self.segment_uuid)

    def sdk_connection(self, **options):
        return self.api.sdk_connection(**options)


def _segment_for(api, request, number):
    test_name = re.sub(r'[^A-Za-z0-9_.-]+', '-', request.node.name)
    host_stem = 't%04d' % number
    segment_uuid = api.create_segment(
        '%s-%s' % (host_stem, test_name)[:255])
    return SegmentUnderTest(api, segment_uuid=segment_uuid,
                            host_stem=host_stem)


@pytest.fixture(scope='session')
def masakari_api_server(tmp_path_factory):
    with masakari_api.MasakariApi(
            tmp_path_factory.mktemp('masakari-api')) as api:
        yield api


@pytest.fixture(scope='session')
def _masakari_segment_numbers():
    return itertools.count(1)


@pytest.fixture
def masakari(masakari_api_server, request, _masakari_segment_numbers):
    return _segment_for(masakari_api_server, request,
                        next(_masakari_segment_numbers))


@pytest.fixture
def fresh_masakari(tmp_path, request):
    """Start a masakari-api on a new database: ``fresh_masakari(**opts)``.

    Options are MasakariApi's (duplicate_interval, port, ...). Every API
    started is stopped when the test ends.
    """
    started = []

    def start(**options):
        api = masakari_api.MasakariApi(
            tmp_path / ('masakari-api-%d' % len(started)), **options)
        started.append(api)
        api.start()
        return _segment_for(api, request, 1)

    yield start
    for api in started:
        api.stop()
