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

"""Render the Helm chart with the real helm binary, for tests and checks.

The chart tests, the checkov run and the functional test that runs the
monitor with exactly the chart's permissions all look at what
``helm template`` produces, never at the templates themselves: that is
what a cluster would receive. helm comes from ``tools/helm.sh`` (PATH,
else the npm package that carries it).

Only the standard library and PyYAML are used, so the checkov tox
environment, which does not install the project, can run this module too::

    python -m tests.chart.render --output-dir DIR

writes one directory of manifests per values file (``defaults`` for the
chart's own values).
"""

import argparse
import functools
import json
import os
import pathlib
import subprocess
import sys

import yaml

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / 'charts' / 'masakari-hostmonitor'
VALUES_DIR = REPO_ROOT / 'values'
HELM_SCRIPT = REPO_ROOT / 'tools' / 'helm.sh'

RELEASE = 'masakari-hostmonitor'
NAMESPACE = 'openstack'
# The Kubernetes release the chart is checked against (issue #5).
KUBE_VERSION = '1.35.0'
# helm downloads nothing for `template`; a minute covers a cold disk.
HELM_TIMEOUT = 60

# Every optional part switched on at once: what the values files leave off
# must pass the same checks.
ALL_FEATURES = {
    'pod.probes.masakari_host_monitor.masakari_host_monitor.liveness'
    '.enabled': True,
    'pod.probes.masakari_host_monitor.masakari_host_monitor.readiness'
    '.enabled': True,
    'manifests.service_metrics': True,
    'manifests.service_monitor': True,
    'manifests.prometheus_rule': True,
    'manifests.grafana_dashboard': True,
    'manifests.network_policy': True,
    'conf.masakarimonitors.k8s.watch_leases': True,
    'conf.masakarimonitors.k8s.fencing': 'redfish',
    'conf.masakarimonitors.k8s.fence_action': 'redfish-power-off',
    'conf.redfish_bmc_map': {'compute-01': 'https://192.0.2.1'},
    'secrets.redfish.credentials.name': 'masakari-hostmonitor-redfish',
}

RBAC_ROLE_KINDS = ('ClusterRole', 'Role')
RBAC_BINDING_KINDS = ('ClusterRoleBinding', 'RoleBinding')


class HelmError(Exception):
    """helm failed; ``stderr`` holds its message (e.g. a schema error)."""

    def __init__(self, command, returncode, stderr):
        super().__init__('%s exited %d:\n%s'
                         % (' '.join(command), returncode, stderr))
        self.command = command
        self.returncode = returncode
        self.stderr = stderr


@functools.cache
def helm_binary():
    """Path of the helm binary; installs it on first use if needed."""
    done = subprocess.run(
        ['bash', str(HELM_SCRIPT)], capture_output=True, text=True,
        check=False, timeout=600)
    if done.returncode != 0:
        raise HelmError(['tools/helm.sh'], done.returncode, done.stderr)
    return done.stdout.strip().splitlines()[-1]


def run_helm(*arguments):
    """Run helm; raise HelmError on failure, else return its stdout."""
    command = [helm_binary(), *arguments]
    done = subprocess.run(command, capture_output=True, text=True,
                          check=False, timeout=HELM_TIMEOUT,
                          cwd=REPO_ROOT)
    if done.returncode != 0:
        raise HelmError(command, done.returncode, done.stderr)
    return done.stdout


def values_files():
    """Every per-cloud values file, sorted by name."""
    return sorted(VALUES_DIR.glob('*.yaml'))


def value_arguments(values_files, set_values):
    arguments = []
    for path in values_files:
        arguments += ['--values', str(path)]
    # --set-json keeps types exactly (true stays a bool, null unsets).
    for key, value in (set_values or {}).items():
        arguments += ['--set-json', '%s=%s' % (key, json.dumps(value))]
    return arguments


def template_arguments(values_files=(), set_values=None, *,
                       release=RELEASE, namespace=NAMESPACE):
    """helm template arguments (without the output options)."""
    return ['template', release, str(CHART_DIR),
            '--namespace', namespace,
            '--kube-version', KUBE_VERSION,
            *value_arguments(values_files, set_values)]


def render_text(values_files=(), set_values=None, *, release=RELEASE,
                namespace=NAMESPACE):
    """The multi-document YAML that ``helm template`` prints."""
    return run_helm(*template_arguments(
        values_files, set_values, release=release, namespace=namespace))


def render(values_files=(), set_values=None, *, release=RELEASE,
           namespace=NAMESPACE):
    """Render the chart and return its objects, in helm's order.

    ``values_files`` are paths passed as ``--values``; ``set_values`` maps
    dotted keys to values passed as ``--set-json`` (so types survive).
    Raises HelmError when helm refuses, e.g. on a schema violation.
    """
    text = render_text(values_files, set_values, release=release,
                       namespace=namespace)
    return [document for document in yaml.safe_load_all(text)
            if document]


def lint(values_files=(), set_values=None, *, namespace=NAMESPACE):
    """``helm lint --strict``; returns its output, raises HelmError."""
    return run_helm('lint', '--strict', str(CHART_DIR),
                    '--namespace', namespace,
                    '--kube-version', KUBE_VERSION,
                    *value_arguments(values_files, set_values))


def named_renders():
    """(name, values files, set values) of every render the checks cover.

    The chart's defaults, each per-cloud values file, and all optional
    parts on at once.
    """
    renders = [('defaults', (), None)]
    renders += [(path.stem, (path,), None) for path in values_files()]
    renders.append(('all-features', (), ALL_FEATURES))
    return renders


def render_to_directory(output_dir, values_files=(), set_values=None):
    """``helm template --output-dir``: one file per template.

    That is the layout OpenStack-Helm's lint job runs yamllint over.
    """
    run_helm(*template_arguments(values_files, set_values),
             '--output-dir', str(output_dir))


def _bound_roles(objects):
    """Which roles are bound to a ServiceAccount, and where.

    Maps (kind, name, role namespace) to the namespaces the bindings grant
    the role in, or to None when a ClusterRoleBinding grants it
    cluster-wide.
    """
    bound = {}
    for binding in objects:
        if binding.get('kind') not in RBAC_BINDING_KINDS:
            continue
        if not any(subject.get('kind') == 'ServiceAccount'
                   for subject in binding.get('subjects') or ()):
            continue
        ref = binding['roleRef']
        if binding['kind'] == 'ClusterRoleBinding':
            bound[(ref['kind'], ref['name'], None)] = None
            continue
        # A RoleBinding grants in its own namespace, whether it refers to
        # a Role there or to a ClusterRole.
        namespace = binding['metadata'].get('namespace')
        role_namespace = namespace if ref['kind'] == 'Role' else None
        key = (ref['kind'], ref['name'], role_namespace)
        granted = bound.get(key, ())
        if granted is not None:  # cluster-wide already covers it
            bound[key] = granted + (namespace,)
    return bound


def rbac_rules(objects):
    """The PolicyRules the chart grants its ServiceAccount.

    Each rule is a dict in the Kubernetes PolicyRule shape (``apiGroups``,
    ``resources``, ``verbs``, and ``resourceNames`` when present) plus
    ``namespaces``: None for cluster scope (a ClusterRoleBinding), else
    the list of namespaces its RoleBinding grants it in. That is the shape
    masakarimonitors_k8s.testing.kube_apiserver.auth.PolicyRule.from_dict
    takes. A Role or ClusterRole that nothing binds grants nothing and is
    left out.
    """
    bound = _bound_roles(objects)
    rules = []
    for role in objects:
        kind = role.get('kind')
        if kind not in RBAC_ROLE_KINDS:
            continue
        name = role['metadata']['name']
        namespace = (role['metadata'].get('namespace')
                     if kind == 'Role' else None)
        key = (kind, name, namespace)
        if key not in bound:
            continue
        scope = bound[key]
        for rule in role.get('rules') or ():
            rule = dict(rule)
            rule['namespaces'] = None if scope is None else list(scope)
            rules.append(rule)
    return rules


def _main(argv=None):
    parser = argparse.ArgumentParser(
        description='Render the chart for the defaults, every values '
                    'file and all features on, into OUTPUT_DIR/<name>/.')
    parser.add_argument('--output-dir', required=True,
                        type=pathlib.Path)
    arguments = parser.parse_args(argv)
    for name, files, set_values in named_renders():
        target = arguments.output_dir / name
        os.makedirs(target, exist_ok=True)
        render_to_directory(target, files, set_values)
        print('rendered %s into %s' % (name, target))
    return 0


if __name__ == '__main__':
    sys.exit(_main())
