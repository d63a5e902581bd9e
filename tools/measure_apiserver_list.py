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

"""Measure a full paginated LIST of 5,000 heavy Nodes from the test server.

The monitor relists every Node after a watch expires, so the time a full
list takes through the official client bounds how fast it recovers. This
tool fills the Kubernetes API test server with realistic ~13 KB Nodes
(:func:`masakarimonitors_k8s.testing.nodes.make_node`), lists them with
the official ``kubernetes`` client in pages (raw JSON, as the driver
does), and prints the seconds and megabytes it took.

It is a measurement, not a test: it asserts nothing about timing.

``--real`` measures the same against the real kube-apiserver and etcd of
:mod:`masakarimonitors_k8s.testing.controlplane` instead (the Nodes are
created over HTTPS first, and that is timed too): the truth check of the
test server's figure.

Usage: python tools/measure_apiserver_list.py [--nodes 5000] [--limit 500]
       [--tls] [--repeat 3] [--real]
"""

import argparse
import json
import os
import sys
import tempfile
import time

from kubernetes import client
from kubernetes import config

from masakarimonitors_k8s import clock as clock_mod
from masakarimonitors_k8s.testing import controlplane
from masakarimonitors_k8s.testing.kube_apiserver import server as server_mod
from masakarimonitors_k8s.testing.kube_apiserver import store as store_mod
from masakarimonitors_k8s.testing import nodes as nodes_mod

TOKEN = 'measure-token'


def fill(store, count, now):
    for index in range(count):
        store.create('nodes', nodes_mod.make_node(
            'compute-%05d' % index, now=now))


def list_all(core, limit):
    """List every node page by page; returns (items, bytes, pages)."""
    items, total_bytes, pages, token = 0, 0, 0, None
    while True:
        response = core.list_node(limit=limit, _continue=token,
                                  _preload_content=False)
        data = response.data
        body = json.loads(data)
        total_bytes += len(data)
        items += len(body['items'])
        pages += 1
        token = body['metadata'].get('continue')
        if not token:
            return items, total_bytes, pages


def list_repeatedly(core, args):
    for attempt in range(1, args.repeat + 1):
        started = time.monotonic()
        items, size, pages = list_all(core, args.limit)
        elapsed = time.monotonic() - started
        print('list %d: %d nodes in %d pages, %.1f MB, %.2f s'
              % (attempt, items, pages, size / 1e6, elapsed))
        if items != args.nodes:
            print('expected %d nodes' % args.nodes, file=sys.stderr)
            return 1
    return 0


def measure_real(args):
    clock = clock_mod.SystemClock()
    with tempfile.TemporaryDirectory() as workdir:
        plane = controlplane.ControlPlane(
            workdir, bin_dir=controlplane.build(), controllers=False)
        with plane:
            print('kube-apiserver %s up in %.1f s' % (
                plane.server_version(), plane.start_seconds))
            configuration = client.Configuration()
            config.load_kube_config(
                config_file=plane.endpoints.admin_kubeconfig,
                client_configuration=configuration)
            with client.ApiClient(configuration) as api:
                core = client.CoreV1Api(api)
                started = time.monotonic()
                for index in range(args.nodes):
                    core.create_node(nodes_mod.make_node(
                        'compute-%05d' % index, now=clock.wall()),
                        _preload_content=False)
                print('created %d nodes over HTTPS in %.2f s'
                      % (args.nodes, time.monotonic() - started))
                return list_repeatedly(core, args)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--nodes', type=int, default=5000)
    parser.add_argument('--limit', type=int, default=500)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--tls', action='store_true')
    parser.add_argument('--real', action='store_true',
                        help='the real kube-apiserver (always TLS)')
    args = parser.parse_args(argv)
    if args.real:
        return measure_real(args)
    clock = clock_mod.SystemClock()
    store = store_mod.ObjectStore(clock=clock)
    started = time.monotonic()
    fill(store, args.nodes, clock.wall())
    print('filled %d nodes in %.2f s'
          % (args.nodes, time.monotonic() - started))
    with server_mod.KubeApiServer(store=store, tls=args.tls) as server, \
            tempfile.TemporaryDirectory() as workdir:
        server.add_token(TOKEN, user='measure', rules=[{
            'verbs': ['list'], 'apiGroups': [''], 'resources': ['nodes']}])
        configuration = client.Configuration()
        config.load_kube_config(
            config_file=server.write_kubeconfig(
                os.path.join(workdir, 'kubeconfig'), token=TOKEN),
            client_configuration=configuration)
        with client.ApiClient(configuration) as api:
            return list_repeatedly(client.CoreV1Api(api), args)


if __name__ == '__main__':
    sys.exit(main())
