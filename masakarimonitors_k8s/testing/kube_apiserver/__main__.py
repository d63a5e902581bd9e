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

"""Run the Kubernetes API test server as its own process.

Part of the Kubernetes API test server; also installed as the
``masakari-k8s-apiserver`` console script. A test (or a person) starts it,
reads one JSON line from stdout with the URL, CA file and kubeconfig path,
and drives faults through ``/_control/`` (see :mod:`.control`). It exits
on SIGTERM, SIGINT or ``POST /_control/shutdown``.
"""

import argparse
import json
import logging
import os
import signal
import sys
import tempfile

from masakarimonitors_k8s.testing.kube_apiserver import server as server_mod

ADMIN_RULES = ({'verbs': ['*'], 'apiGroups': ['*'], 'resources': ['*']},)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog='masakari-k8s-apiserver',
        description='Kubernetes API test server (Nodes, Leases, Events) '
                    'with a /_control/ API for fault injection.')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0,
                        help='0 picks a free port (default)')
    parser.add_argument('--tls', action='store_true',
                        help='serve HTTPS with a throwaway CA')
    parser.add_argument('--no-auth', action='store_true',
                        help='allow every request without a token')
    parser.add_argument('--admin-token', action='append', default=[],
                        metavar='TOKEN',
                        help='accept TOKEN as user "admin" with every '
                             'permission (repeatable)')
    parser.add_argument('--bookmark-interval', type=float, default=60.0)
    parser.add_argument('--history-limit', type=int, default=20000)
    parser.add_argument('--kubeconfig', metavar='PATH',
                        help='write a kubeconfig here (first admin token)')
    parser.add_argument('--print-url', action='store_true',
                        help='print one JSON line with url, ca_file and '
                             'kubeconfig on stdout once serving')
    parser.add_argument('--debug', action='store_true')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        stream=sys.stderr,
                        format='%(asctime)s %(levelname)s %(name)s '
                               '%(message)s')
    server = server_mod.KubeApiServer(
        tls=args.tls, auth=not args.no_auth,
        bookmark_interval=args.bookmark_interval, host=args.host,
        port=args.port, history_limit=args.history_limit)
    for token in args.admin_token:
        server.add_token(token, user='admin', rules=ADMIN_RULES)

    def request_shutdown(signum, frame):
        server.shutdown_requested.set()

    signal.signal(signal.SIGTERM, request_shutdown)
    signal.signal(signal.SIGINT, request_shutdown)
    server.start()
    try:
        kubeconfig = args.kubeconfig
        if kubeconfig is None:
            handle, kubeconfig = tempfile.mkstemp(prefix='kubeconfig-',
                                                  suffix='.json')
            os.close(handle)
        server.write_kubeconfig(
            kubeconfig, token=args.admin_token[0] if args.admin_token
            else None)
        ready = {'url': server.url, 'control_url': server.url + '/_control',
                 'ca_file': server.ca_file, 'kubeconfig': kubeconfig,
                 'pid': os.getpid()}
        if args.print_url:
            print(json.dumps(ready), flush=True)
        else:
            logging.info('serving the Kubernetes API at %s', server.url)
        while not server.shutdown_requested.wait(1.0):
            pass
    finally:
        server.stop()
        if args.kubeconfig is None:
            os.unlink(kubeconfig)
    return 0


if __name__ == '__main__':
    sys.exit(main())
