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

"""Adding the out-of-service taint to a Node, safely.

A merge patch of ``spec.taints`` replaces the whole list, so the write
carries the resourceVersion it was computed from: if the kubelet or the
node lifecycle controller changed the taints meanwhile, the API server
answers 409 and we read and try again, instead of erasing their taints.
"""

from oslo_log import log as logging

from masakarimonitors_k8s.kube import client as kube_client
from masakarimonitors_k8s.kube import nodes as kube_nodes

LOG = logging.getLogger(__name__)

NODES_PATH = '/api/v1/nodes'


def add_taint(kube, node_name, *, key, value, effect='NoExecute',
              now_wall, attempts=5):
    """Add taint ``key=value:effect`` unless the node already has ``key``.

    Returns True when this call added it. Raises kube.client.ApiError
    when the node can't be read or written.
    """
    path = '%s/%s' % (NODES_PATH, kube_client.quote(node_name))
    for attempt in range(1, attempts + 1):
        node = kube.get_json(path)
        taints = list((node.get('spec') or {}).get('taints') or [])
        if any(isinstance(t, dict) and t.get('key') == key for t in taints):
            return False
        taints.append({'key': key, 'value': value, 'effect': effect,
                       'timeAdded': kube_nodes.format_time(now_wall)})
        patch = {'metadata': {'resourceVersion':
                              node['metadata']['resourceVersion']},
                 'spec': {'taints': taints}}
        try:
            kube.patch_merge(path, patch)
            return True
        except kube_client.ApiError as exc:
            if exc.status != 409 or attempt == attempts:
                raise
            LOG.info('Node %s changed while tainting it (attempt %d); '
                     'reading it again.', node_name, attempt)
    return False
