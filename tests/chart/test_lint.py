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

"""helm lint, Kubernetes 1.35 schemas and yamllint for every render.

* ``helm lint --strict`` for the defaults, each values file and all
  features on.
* Every rendered object validates, strictly (unknown fields are errors),
  against the Kubernetes 1.35 OpenAPI schemas that kubernetes-validate
  ships, offline.
* yamllint with OpenStack-Helm's two rule sets: ``.yamllint`` (their
  yamllint.conf) for the chart's own YAML and the values files,
  ``tests/chart/yamllint-templates.yaml`` (their yamllint-templates.conf)
  for ``helm template --output-dir``, which is how their lint job runs.

Each checker is also shown a broken input, so a checker that silently
accepts everything cannot pass.
"""

import kubernetes_validate
import pytest
from yamllint import config as yamllint_config
from yamllint import linter as yamllint_linter

from tests.chart import render

SOURCE_RULES = render.REPO_ROOT / '.yamllint'
RENDERED_RULES = render.REPO_ROOT / 'tests' / 'chart' / \
    'yamllint-templates.yaml'
# Kinds defined by CRDs, for which Kubernetes has no schema; checked by
# hand below.
CRD_KINDS = {('monitoring.coreos.com/v1', 'ServiceMonitor'),
             ('monitoring.coreos.com/v1', 'PrometheusRule')}
KUBE_VERSION = render.KUBE_VERSION


def source_yaml_files():
    chart = render.CHART_DIR
    return [chart / 'Chart.yaml', chart / 'values.yaml', SOURCE_RULES,
            RENDERED_RULES, *render.values_files()]


def yamllint_problems(paths, rules):
    """``path:line: rule: message`` for every yamllint finding."""
    rule_set = yamllint_config.YamlLintConfig(file=str(rules))
    found = []
    for path in paths:
        with open(path) as stream:
            for problem in yamllint_linter.run(stream, rule_set, str(path)):
                found.append('%s:%d: %s: %s' % (
                    path, problem.line, problem.rule, problem.desc))
    return found


def schema_errors(objects):
    """Objects that do not validate against the Kubernetes schemas."""
    errors = []
    for item in objects:
        if (item['apiVersion'], item['kind']) in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(item, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append('%s/%s: %s' % (
                item['kind'], item['metadata']['name'], exc.message))
    return errors


@pytest.mark.parametrize('named', render.named_renders(),
                         ids=lambda named: named[0])
def test_helm_lint_strict(named):
    _, values_files, set_values = named
    output = render.lint(values_files, set_values)
    assert '0 chart(s) failed' in output


def test_objects_validate_against_kubernetes_1_35(named_render):
    _, objects = named_render
    assert schema_errors(objects) == []


def test_schema_validation_catches_an_unknown_field(chart):
    deployment = next(item for item in chart.render()
                      if item['kind'] == 'Deployment')
    deployment['spec']['template']['spec']['containers'][0]['probe'] = {}
    errors = schema_errors([deployment])
    assert len(errors) == 1 and 'probe' in errors[0]


def test_service_monitor_scrapes_the_metrics_service(chart):
    objects = chart.render(set_values=render.ALL_FEATURES)
    monitor = next(item for item in objects
                   if item['kind'] == 'ServiceMonitor')
    service = next(item for item in objects if item['kind'] == 'Service')
    selector = monitor['spec']['selector']['matchLabels']
    assert selector.items() <= service['metadata']['labels'].items()
    port_names = {port['name'] for port in service['spec']['ports']}
    assert [endpoint['port'] for endpoint in monitor['spec']['endpoints']] \
        == ['metrics']
    assert 'metrics' in port_names
    assert monitor['spec']['namespaceSelector']['matchNames'] == [
        service['metadata']['namespace']]


def test_chart_and_values_files_pass_yamllint():
    assert yamllint_problems(source_yaml_files(), SOURCE_RULES) == []


@pytest.mark.parametrize('named', render.named_renders(),
                         ids=lambda named: named[0])
def test_rendered_templates_pass_yamllint(named, tmp_path):
    _, values_files, set_values = named
    render.render_to_directory(tmp_path, values_files, set_values)
    rendered = sorted(tmp_path.rglob('*.yaml'))
    assert rendered
    assert yamllint_problems(rendered, RENDERED_RULES) == []


def test_yamllint_rules_catch_osh_style_mistakes(tmp_path):
    sloppy = tmp_path / 'sloppy.yaml'
    # No document start, a trailing space, an implicit octal.
    sloppy.write_text('mode: 0644 \n')
    rules = {problem.split(': ')[1]
             for problem in yamllint_problems([sloppy], SOURCE_RULES)}
    assert {'document-start', 'trailing-spaces', 'octal-values',
            'document-end'} <= rules


@pytest.mark.parametrize('named', render.named_renders(),
                         ids=lambda named: named[0])
def test_notes_say_how_the_monitor_fences(named):
    # helm template leaves NOTES.txt out; a client-side dry run renders it.
    _, values_files, set_values = named
    output = render.run_helm(
        'install', render.RELEASE, str(render.CHART_DIR), '--dry-run=client',
        '--namespace', render.NAMESPACE,
        *render.value_arguments(values_files, set_values))
    notes = output[output.index('NOTES:'):]
    assert 'Fencing evidence:' in notes
    assert 'kubectl -n %s logs -f deployment/%s' % (
        render.NAMESPACE, render.RELEASE) in notes
