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

"""The test server as its own process, driven through /_control/."""

import email.utils
import json
import os
import select
import signal
import subprocess
import sys
import time

from kubernetes import client
from kubernetes import config
from kubernetes import watch
import pytest
import urllib3

from masakarimonitors_k8s.testing.kube_apiserver import control

pytestmark = pytest.mark.timeout(90)


class ServerProcess:
    def __init__(self, *args):
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'masakarimonitors_k8s.testing.'
             'kube_apiserver', '--port', '0', '--print-url'] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        readable, _, _ = select.select([self.process.stdout], [], [], 30)
        if not readable:
            self.process.kill()
            pytest.fail('the server printed no ready line in 30 s')
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(10)
            pytest.fail('the server exited: %s'
                        % self.process.stderr.read().decode())
        self.ready = json.loads(line)

    def wait(self, timeout=15):
        return self.process.wait(timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process.stdout.close()
        self.process.stderr.close()


@pytest.fixture
def tls_process():
    process = ServerProcess('--tls', '--admin-token', 'admin',
                            '--bookmark-interval', '5')
    yield process
    process.kill()


def client_from(kubeconfig, **settings):
    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig,
                            client_configuration=configuration)
    for name, value in settings.items():
        setattr(configuration, name, value)
    return client.ApiClient(configuration)


def test_ready_line_and_kubeconfig(tls_process):
    ready = tls_process.ready
    assert ready['url'].startswith('https://127.0.0.1:')
    assert ready['control_url'] == ready['url'] + '/_control'
    assert ready['pid'] == tls_process.process.pid
    assert os.path.exists(ready['ca_file'])
    with client_from(ready['kubeconfig']) as api:
        coordination = client.CoordinationV1Api(api)
        coordination.create_namespaced_lease('kube-node-lease', {
            'metadata': {'name': 'n1'},
            'spec': {'holderIdentity': 'n1', 'leaseDurationSeconds': 40}})
        leases = coordination.list_namespaced_lease('kube-node-lease')
        assert [item.metadata.name for item in leases.items] == ['n1']
    controller = control.ControlClient(ready['url'],
                                       ca_file=ready['ca_file'])
    state = controller.state()
    assert state['objects'] == {'nodes': 0, 'leases': 1, 'events': 0}
    assert state['resource_version'] == '1'
    assert [(r['verb'], r['status']) for r in controller.request_log()] \
        == [('create', 201), ('list', 200)]
    controller.shutdown()
    assert tls_process.wait() == 0
    assert not os.path.exists(ready['kubeconfig'])


def test_faults_clock_and_tokens_through_control(tls_process):
    ready = tls_process.ready
    controller = control.ControlClient(ready['url'],
                                       ca_file=ready['ca_file'])
    with client_from(ready['kubeconfig'], retries=0) as api:
        core = client.CoreV1Api(api)
        controller.fail_next(1, 503, verb='list', retry_after=None)
        with pytest.raises(client.ApiException) as caught:
            core.list_node(_preload_content=False)
        assert caught.value.status == 503
        core.list_node(_preload_content=False)

        controller.set_clock_offset(3600)
        response = core.list_node(_preload_content=False)
        server_time = email.utils.parsedate_to_datetime(
            response.headers['Date']).timestamp()
        assert abs(server_time - (time.time() + 3600)) < 60
        assert controller.state()['clock_offset'] == 3600

        controller.add_token('reader', user='reader', rules=[{
            'apiGroups': [''], 'resources': ['nodes'], 'verbs': ['get']}])
    reader_config = client.Configuration(
        host=ready['url'], api_key={'BearerToken': 'reader'},
        api_key_prefix={'BearerToken': 'Bearer'})
    reader_config.ssl_ca_cert = ready['ca_file']
    with client.ApiClient(reader_config) as api:
        with pytest.raises(client.ApiException) as caught:
            client.CoreV1Api(api).list_node(_preload_content=False)
        assert caught.value.status == 403
        assert 'User "reader" cannot list resource "nodes"' in \
            json.loads(caught.value.body)['message']
        controller.remove_token('reader')
        with pytest.raises(client.ApiException) as caught:
            client.CoreV1Api(api).list_node(_preload_content=False)
        assert caught.value.status == 401


def test_compaction_and_drop_through_control(tls_process):
    ready = tls_process.ready
    controller = control.ControlClient(ready['url'],
                                       ca_file=ready['ca_file'])
    with client_from(ready['kubeconfig']) as api:
        coordination = client.CoordinationV1Api(api)
        for name in ('a', 'b'):
            coordination.create_namespaced_lease('ns', {
                'metadata': {'name': name}, 'spec': {}})
        controller.expire_history()
        with pytest.raises(client.ApiException) as caught:
            list(watch.Watch().stream(
                coordination.list_namespaced_lease, 'ns',
                resource_version='1', timeout_seconds=5))
        assert caught.value.status == 410
        stream = watch.Watch().stream(
            coordination.list_namespaced_lease, 'ns', resource_version='2',
            timeout_seconds=3600, deserialize=False)
        coordination.create_namespaced_lease('ns', {
            'metadata': {'name': 'c'}, 'spec': {}})
        first = next(stream)
        assert (first['type'], first['object']['metadata']['name']) == (
            'ADDED', 'c')
        assert controller.state()['open_watches'] == 1
        controller.drop_watches()
        # Cut mid-stream: no final chunk, so urllib3 reports it broken.
        with pytest.raises(urllib3.exceptions.ProtocolError):
            next(stream)
    with pytest.raises(control.ControlError) as caught:
        controller.call('POST', 'faults/unknown', {})
    assert caught.value.code == 404


def test_black_hole_can_be_lifted_through_control(tls_process):
    ready = tls_process.ready
    controller = control.ControlClient(ready['url'],
                                       ca_file=ready['ca_file'])
    controller.black_hole()
    assert controller.state()['faults']['black_hole'] is True
    with client_from(ready['kubeconfig'], retries=0) as api:
        with pytest.raises(urllib3.exceptions.HTTPError) as caught:
            client.CoreV1Api(api).list_node(_preload_content=False,
                                            _request_timeout=(5, 0.3))
        assert 'timed out' in str(caught.value)
        controller.clear_faults()
        client.CoreV1Api(api).list_node(_preload_content=False)


def test_sigterm_stops_an_open_server():
    process = ServerProcess('--no-auth')
    try:
        configuration = client.Configuration(host=process.ready['url'])
        with client.ApiClient(configuration) as api:
            body = json.loads(client.CoreV1Api(api).list_node(
                _preload_content=False).data)
            assert body['items'] == []
        process.process.send_signal(signal.SIGTERM)
        assert process.wait() == 0
    finally:
        process.kill()
