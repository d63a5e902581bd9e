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

"""masakari-monitors' ``kubernetes`` driver, unmodified, outside a pod.

Part of the benchmark (:mod:`masakarimonitors_k8s.bench`). The upstream
driver only knows in-cluster configuration: it calls
``kubernetes.config.load_incluster_config()``, which takes the API server
address from ``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT`` and
the service account's token and CA from fixed paths under
``/var/run/secrets/kubernetes.io/serviceaccount``. The benchmark sets the
two variables and, since it must not write to that system directory,
points the two file paths at a directory it prepared (the environment
variable :data:`SERVICE_ACCOUNT_DIR_ENV`), as a pod's volume mount would
provide them. Nothing else changes: the same in-cluster loader, the same
driver, the same ``masakari-hostmonitor`` main function.

Run as ``python -m masakarimonitors_k8s.bench.upstream --config-file F``.
"""

import os
import sys

SERVICE_ACCOUNT_DIR_ENV = 'MASAKARI_BENCH_SERVICE_ACCOUNT_DIR'
TOKEN_FILE = 'token'
CA_FILE = 'ca.crt'


def write_service_account(directory, *, token, ca_file):
    """Lay out ``directory`` as a pod's service account mount."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, TOKEN_FILE), 'w') as stream:
        stream.write(token)
    with open(ca_file, 'rb') as source, \
            open(os.path.join(directory, CA_FILE), 'wb') as target:
        target.write(source.read())
    return directory


def use_service_account_dir(directory):
    """Make the in-cluster loader read its two files from ``directory``.

    ``load_incluster_config`` reads these module attributes when called,
    so the driver's own call, made later, sees them.
    """
    # Imported here: the benchmark process imports this module for the
    # helpers above and must not load the kubernetes client for nothing.
    from kubernetes.config import incluster_config

    incluster_config.SERVICE_TOKEN_FILENAME = os.path.join(directory,
                                                           TOKEN_FILE)
    incluster_config.SERVICE_CERT_FILENAME = os.path.join(directory,
                                                          CA_FILE)


def main():
    directory = os.environ.get(SERVICE_ACCOUNT_DIR_ENV)
    if not directory:
        sys.exit('%s must name the service account directory'
                 % SERVICE_ACCOUNT_DIR_ENV)
    use_service_account_dir(directory)
    # masakari-monitors' configuration and logging are process-global:
    # only the driver's own process may load them.
    from masakarimonitors.cmd import hostmonitor

    hostmonitor.main()


if __name__ == '__main__':
    main()
