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

"""Monitored nodes that share a Masakari host name, or nearly do.

Position: beside the decision engine, which tells it each monitored node's
host name as it accepts the node (``observe``) and when it stops
monitoring one (``forget``). Nothing here decides anything; it makes a
broken mapping loud, in the log and in the
``masakari_k8s_hostname_conflicts`` metric, because the rest of the flow
is keyed by host name:

* two nodes with one host name (``hostname_source = short-name`` with
  ``a.dc1`` and ``a.dc2``, or a label copied by mistake) supersede each
  other's notifications in the delivery queue and the gate, and Masakari
  is told that one host failed when it cannot know which;
* host names that differ only by case are one host to Masakari on a
  case-insensitive database collation (MySQL's default) and two hosts on
  a case-sensitive one. Kubernetes lower-cases node names while nova keeps
  the case of the hypervisor's host name.

The index costs a few dict operations per node event and keeps the set
of conflicts incrementally, so that a scrape only counts them.
"""

import logging

from oslo_log import log as oslo_logging

LOG = oslo_logging.getLogger(__name__)

COLLISION = 'collision'
CASE = 'case'


class HostnameIndex:
    """Node name -> Masakari host name, and the conflicts among them.

    :param log: log each conflict as it appears and when it is resolved.
    """

    def __init__(self, *, log=True):
        self._log = log
        self._host_of = {}      # node -> host name
        self._nodes_of = {}     # host name -> {node}
        self._spellings = {}    # casefolded host name -> {host name}
        self._collisions = set()      # host names of >= 2 nodes
        self._case_conflicts = set()  # casefolded names of >= 2 spellings

    def observe(self, node, hostname):
        """``node`` is monitored as Masakari host ``hostname``."""
        if self._host_of.get(node) == hostname:
            return
        self.forget(node)
        self._host_of[node] = hostname
        nodes = self._nodes_of.setdefault(hostname, set())
        nodes.add(node)
        if len(nodes) > 1:
            self._collisions.add(hostname)
            self._say(
                logging.ERROR,
                'Host name conflict: nodes %s all map to Masakari host %s. '
                'Their notifications replace each other, and Masakari '
                'cannot know which host failed. Fix [k8s] hostname_source, '
                'hostname_key or hostname_domain, or the nodes\' labels.',
                ', '.join(sorted(nodes)), hostname)
        folded = hostname.casefold()
        spellings = self._spellings.setdefault(folded, set())
        if hostname not in spellings:
            spellings.add(hostname)
            if len(spellings) > 1:
                self._case_conflicts.add(folded)
                self._say(
                    logging.ERROR,
                    'Host name case conflict: Masakari host names %s (nodes '
                    '%s) differ only by case. Masakari treats them as one '
                    'host on a case-insensitive database and as two on a '
                    'case-sensitive one; nova\'s host names keep their case.',
                    ', '.join(sorted(spellings)),
                    ', '.join(sorted(self._nodes_in(folded))))

    def forget(self, node):
        """``node`` is no longer monitored."""
        hostname = self._host_of.pop(node, None)
        if hostname is None:
            return
        nodes = self._nodes_of[hostname]
        nodes.discard(node)
        if len(nodes) < 2 and hostname in self._collisions:
            self._collisions.discard(hostname)
            self._say(logging.INFO, 'Host name conflict for %s resolved '
                      '(%s).', hostname, 'node %s' % next(iter(nodes))
                      if nodes else 'no node')
        if nodes:
            return
        del self._nodes_of[hostname]
        folded = hostname.casefold()
        spellings = self._spellings[folded]
        spellings.discard(hostname)
        if len(spellings) < 2 and folded in self._case_conflicts:
            self._case_conflicts.discard(folded)
            self._say(logging.INFO, 'Host name case conflict for %s '
                      'resolved.', hostname)
        if not spellings:
            del self._spellings[folded]

    def _say(self, level, message, *args):
        if self._log:
            LOG.log(level, message, *args)

    def hostname(self, node):
        return self._host_of.get(node)

    def conflict_counts(self):
        """{kind: number of conflicting host names}, for the metric."""
        return {COLLISION: len(self._collisions),
                CASE: len(self._case_conflicts)}

    def conflicts(self):
        """{kind: {host name: sorted nodes}} of the current conflicts."""
        return {
            COLLISION: {hostname: sorted(self._nodes_of[hostname])
                        for hostname in sorted(self._collisions)},
            CASE: {' / '.join(sorted(self._spellings[folded])):
                   sorted(self._nodes_in(folded))
                   for folded in sorted(self._case_conflicts)},
        }

    def _nodes_in(self, folded):
        return {node for hostname in self._spellings.get(folded, ())
                for node in self._nodes_of.get(hostname, ())}


def find_conflicts(hostname_of):
    """{kind: {host name: nodes}} for a whole {node: host name} at once.

    For one-shot callers such as ``masakari-k8s-check``.
    """
    index = HostnameIndex(log=False)
    for node, hostname in hostname_of.items():
        index.observe(node, hostname)
    return index.conflicts()
