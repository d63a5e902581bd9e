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

"""The real control plane's fixture, without starting anything.

What can go wrong before a binary runs: the PKI it hands kube-apiserver,
timings that would make the node lifecycle controller flap, a binary
directory that lacks something, a machine without Go. The control plane
itself is exercised by ``tox -e e2e-controlplane``.
"""

import ipaddress
import os
import subprocess

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID
import pytest

from masakarimonitors_k8s.testing import controlplane


def _load(path):
    with open(path, 'rb') as pem:
        return x509.load_pem_x509_certificate(pem.read())


def test_pki_admin_certificate_is_in_system_masters(tmp_path):
    pki = controlplane.Pki(tmp_path)
    admin = pki.client('kubernetes-admin', groups=('system:masters',))
    cert = _load(admin.cert_file)
    subject = cert.subject
    assert subject.get_attributes_for_oid(
        NameOID.COMMON_NAME)[0].value == 'kubernetes-admin'
    assert [attribute.value for attribute in subject.get_attributes_for_oid(
        NameOID.ORGANIZATION_NAME)] == ['system:masters']
    ca = _load(pki.ca_file)
    cert.verify_directly_issued_by(ca)
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert list(usage.value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert oct(os.stat(admin.key_file).st_mode & 0o777) == '0o600'


def test_pki_serving_certificate_names_loopback_and_the_service(tmp_path):
    pki = controlplane.Pki(tmp_path)
    serving = pki.server('kube-apiserver', hosts=(
        '127.0.0.1', controlplane.SERVICE_IP, 'kubernetes.default.svc'))
    names = _load(serving.cert_file).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address('127.0.0.1'),
        ipaddress.ip_address(controlplane.SERVICE_IP)]
    assert names.get_values_for_type(x509.DNSName) == [
        'kubernetes.default.svc']
    ca = _load(pki.ca_file)
    assert ca.extensions.get_extension_for_class(
        x509.BasicConstraints).value.ca


def test_grace_period_shorter_than_four_lease_renewals_is_refused(tmp_path):
    with pytest.raises(ValueError, match='grace_period 10 s'):
        controlplane.ControlPlane(tmp_path, bin_dir=tmp_path,
                                  grace_period=10, lease_duration=20)


def test_binary_directory_missing_binaries_is_named(tmp_path, monkeypatch):
    (tmp_path / 'etcd').write_text('')
    os.chmod(tmp_path / 'etcd', 0o755)
    monkeypatch.setenv(controlplane.BIN_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(controlplane.ControlPlaneError) as caught:
        controlplane.build()
    message = str(caught.value)
    assert 'kube-apiserver' in message and 'kwok' in message
    assert 'etcd,' not in message


def test_versions_of_a_build(tmp_path):
    (tmp_path / 'versions.env').write_text(
        'KUBERNETES_VERSION=v1.35.4\nETCD_VERSION=v3.6.17\n')
    assert controlplane.versions(tmp_path) == {
        'KUBERNETES_VERSION': 'v1.35.4', 'ETCD_VERSION': 'v3.6.17'}
    assert controlplane.versions(tmp_path / 'nowhere') == {}


def _build_script(tmp_path, **environment):
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path),
           'MASAKARI_K8S_CONTROLPLANE_CACHE': str(tmp_path / 'cache')}
    env.update(environment)
    return subprocess.run(['bash', str(controlplane.BUILD_SCRIPT)],
                          capture_output=True, text=True, env=env,
                          timeout=60, check=False)


def test_build_script_without_go_says_so(tmp_path):
    done = _build_script(tmp_path, GO=str(tmp_path / 'no-go'))
    assert done.returncode == 2
    assert 'no Go toolchain' in done.stderr
    assert not (tmp_path / 'cache').exists()


def test_build_script_uses_given_binaries(tmp_path):
    done = _build_script(tmp_path,
                         MASAKARI_K8S_CONTROLPLANE_BIN=str(tmp_path / 'bin'))
    assert done.returncode == 0
    assert done.stdout.splitlines()[-1] == str(tmp_path / 'bin')
