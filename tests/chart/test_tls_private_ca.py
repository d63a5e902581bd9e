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

"""masakari-api behind TLS signed by a private CA, with the chart's conf.

A real masakari-api (noauth2) sits behind a TLS terminator whose
certificate a throwaway CA signed. The chart is rendered with that CA as
its bundle; the conf it writes, read the way the monitor reads it, builds
the same openstacksdk client the monitor and ``masakari-k8s-check`` use,
and lists the segments over TLS. Without the bundle the same request
fails certificate verification: the chart never turns verification off.
"""

import socket
import socketserver
import threading
import urllib.parse

from oslo_config import cfg
import pytest

from masakarimonitors_k8s import cli
from masakarimonitors_k8s import notifier
from masakarimonitors_k8s.testing.kube_apiserver import tls
from masakarimonitors_k8s.testing import masakari_api
from tests.chart import manifests
from tests.chart import render

pytestmark = pytest.mark.timeout(120)

CA_PATH_IN_POD = '/etc/ssl/certs/openstack-helm.crt'


class _Pipe(socketserver.BaseRequestHandler):
    """Copies bytes between the TLS client and the plain-HTTP backend."""

    def handle(self):
        backend = socket.create_connection(self.server.backend, timeout=30)
        done = threading.Event()

        def copy(source, target):
            try:
                while not done.is_set():
                    data = source.recv(65536)
                    if not data:
                        break
                    target.sendall(data)
            except OSError:
                pass
            finally:
                done.set()

        upstream = threading.Thread(target=copy,
                                    args=(backend, self.request),
                                    daemon=True)
        upstream.start()
        copy(self.request, backend)
        upstream.join(timeout=30)
        backend.close()


class TlsTerminator(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, backend, context):
        super().__init__(('127.0.0.1', 0), _Pipe)
        self.backend = backend
        self._context = context

    def get_request(self):
        plain, address = super().get_request()
        return self._context.wrap_socket(plain, server_side=True), address


@pytest.fixture(scope='module')
def masakari_behind_tls(tmp_path_factory):
    """(https URL of masakari-api, the private CA's file)."""
    files = tls.make_certificates(str(tmp_path_factory.mktemp('tls')))
    with masakari_api.MasakariApi(
            tmp_path_factory.mktemp('masakari')) as api:
        backend = urllib.parse.urlsplit(api.url)
        terminator = TlsTerminator((backend.hostname, backend.port),
                                   tls.server_context(files))
        thread = threading.Thread(target=terminator.serve_forever,
                                  daemon=True)
        thread.start()
        try:
            url = 'https://127.0.0.1:%d%s' % (terminator.server_address[1],
                                              backend.path)
            yield url, files.ca_file
        finally:
            terminator.shutdown()
            terminator.server_close()


def conf_from_chart(url, tmp_path, ca_file):
    """The chart's conf as the monitor reads it.

    The bundle is mounted at CA_PATH_IN_POD in the pod; here the CA file
    stands in at its own path.
    """
    objects = render.render([render.VALUES_DIR / 'kind.yaml'], {
        'conf.masakarimonitors.api.endpoint': url,
        'secrets.ca_bundle.secret': 'private-ca'})
    text = manifests.secret_files(manifests.the_object(
        objects, 'Secret'))['masakarimonitors.conf']
    assert 'cafile = %s' % CA_PATH_IN_POD in text
    if ca_file is None:
        text = text.replace('cafile = %s\n' % CA_PATH_IN_POD, '')
    else:
        text = text.replace(CA_PATH_IN_POD, ca_file)
    path = tmp_path / 'masakarimonitors.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    cli.register_opts(conf)
    conf(['--config-file', str(path)], project='masakarimonitors',
         default_config_files=[])
    return conf


def test_the_chart_ca_bundle_verifies_masakari_api(masakari_behind_tls,
                                                   tmp_path):
    url, ca_file = masakari_behind_tls
    conf = conf_from_chart(url, tmp_path, ca_file)
    instance_ha = notifier.instance_ha_from_conf(conf)
    assert isinstance(list(instance_ha.segments()), list)


def test_without_the_bundle_verification_fails(masakari_behind_tls,
                                               tmp_path):
    url, _ca_file = masakari_behind_tls
    conf = conf_from_chart(url, tmp_path, None)
    instance_ha = notifier.instance_ha_from_conf(conf)
    with pytest.raises(Exception, match='(?i)certificate|ssl'):
        list(instance_ha.segments())
