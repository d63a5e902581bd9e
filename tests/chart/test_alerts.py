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

"""The chart's alerts and dashboard read metrics the monitor really exports.

A monitor runs against the Kubernetes API test server and a real
masakari-api, reports one host failure, and its /metrics is scraped over
HTTP. Every metric and label value the PrometheusRule and the dashboard
name must be in that scrape (or be a result the notifier documents). With
promtool (PROMTOOL, PATH, or ~/.cache/masakari-k8s-tools/bin, built from
the Prometheus Go module), the rules are checked and each alert is
evaluated by ``promtool test rules`` on series made from the scrape: quiet
on the healthy scrape, firing on the scrape with its one condition changed.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import urllib.request

from prometheus_client import parser
import pytest
import yaml

from masakarimonitors_k8s.observability import wiring
from masakarimonitors_k8s.testing import harness
from masakarimonitors_k8s.testing import masakari_api
from tests.chart import manifests
from tests.chart import render

pytestmark = pytest.mark.timeout(180)

ALERTS = {'MasakariHostMonitorNoLeader', 'MasakariHostMonitorNodeViewStale',
          'MasakariHostMonitorStormGuardEngaged',
          'MasakariHostMonitorDeliveriesFailing',
          'MasakariHostMonitorNodesWithoutMasakariHost',
          'MasakariHostMonitorFencingFailed'}
ENABLED = {'manifests.prometheus_rule': True,
           'manifests.service_metrics': True,
           'manifests.grafana_dashboard': True}
# Labels prometheus-operator puts on a scrape of the metrics Service.
SCRAPE_LABELS = {'namespace': render.NAMESPACE,
                 'service': render.RELEASE + '-metrics',
                 'job': render.RELEASE + '-metrics',
                 'pod': render.RELEASE + '-7d9f-abcde'}
# notifications_total results the notifier documents (metrics.py), which
# a healthy run need not produce.
NOTIFICATION_RESULTS = {'accepted', 'duplicate', 'host_on_maintenance',
                        'unknown_host', 'rejected', 'failed'}
METRIC = re.compile(r'\b(masakari_k8s_[a-z_]+)')


def find_promtool():
    candidates = [os.environ.get('PROMTOOL'), shutil.which('promtool'),
                  str(pathlib.Path.home() / '.cache' / 'masakari-k8s-tools'
                      / 'bin' / 'promtool')]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope='module')
def scrape(tmp_path_factory):
    """Samples of a real /metrics after one reported host failure."""
    with masakari_api.MasakariApi(
            tmp_path_factory.mktemp('masakari')) as masakari:
        segment = masakari.create_segment('alerts')
        names = ['alerts-0001', 'alerts-0002']
        masakari.add_hosts(segment, names)

        class Segment:
            def sdk_connection(self):
                return masakari.sdk_connection()

        cluster = harness.ClusterUnderTest(rules=harness.MONITOR_RULES)
        monitor = handle = None
        try:
            cluster.add_nodes(names)
            monitor = harness.MonitorUnderTest(cluster, Segment(),
                                               harness.fast_settings())
            handle = wiring.attach(monitor.monitor, port=0,
                                   instance='alerts-test')
            harness.wait_until(monitor.synced, what='the initial list')
            cluster.fail_and_detect(names[1])
            monitor.settled()
            with urllib.request.urlopen(handle.url + '/metrics',
                                        timeout=5) as answer:
                text = answer.read().decode('utf-8')
        finally:
            if handle is not None:
                handle.stop()
            if monitor is not None:
                monitor.stop()
            cluster.stop()
    samples = []
    for family in parser.text_string_to_metric_families(text):
        for sample in family.samples:
            samples.append((sample.name, dict(sample.labels), sample.value))
    return samples


@pytest.fixture(scope='module')
def rendered():
    return render.render(set_values=ENABLED)


def rule_groups(objects):
    return manifests.the_object(objects, 'PrometheusRule')['spec']['groups']


def alert_rules(objects):
    return {rule['alert']: rule for group in rule_groups(objects)
            for rule in group['rules']}


def dashboard(objects):
    config_map = [item for item in manifests.objects_of_kind(
        objects, 'ConfigMap') if item['metadata']['name'].endswith(
            '-dashboard')]
    return json.loads(config_map[0]['data']['masakari-hostmonitor.json'])


def dashboard_exprs(board):
    return [target['expr'] for panel in board['panels']
            for target in panel.get('targets', ())]


def exported_names(scrape):
    names = {name for name, _, _ in scrape}
    # A histogram is named by its family in queries too.
    names |= {name[:-len(suffix)] for name in names
              for suffix in ('_bucket', '_sum', '_count')
              if name.endswith(suffix)}
    return names


def family(name):
    """The metric family a sample or query name belongs to."""
    for suffix in ('_bucket', '_sum', '_count', '_created', '_total'):
        if name.endswith(suffix):
            return name[:-len(suffix)]
    return name


def test_the_six_alerts_are_rendered(rendered):
    assert set(alert_rules(rendered)) == ALERTS
    for rule in alert_rules(rendered).values():
        assert rule['labels']['severity'] in ('critical', 'warning')
        assert rule['annotations']['summary']
        # Only this release's series.
        for name in METRIC.findall(rule['expr']):
            assert re.search(
                re.escape(name) + r'\{namespace="openstack",'
                r'service="masakari-hostmonitor-metrics"', rule['expr'])


def test_alerts_and_dashboard_are_opt_in(chart):
    objects = chart.render()
    assert not manifests.objects_of_kind(objects, 'PrometheusRule')
    assert not [item for item in manifests.objects_of_kind(
        objects, 'ConfigMap') if item['metadata']['name'].endswith(
            '-dashboard')]
    with pytest.raises(render.HelmError) as caught:
        render.render(set_values={'manifests.prometheus_rule': True})
    assert 'manifests.prometheus_rule needs manifests.service_metrics' in \
        caught.value.stderr


def test_every_metric_named_is_exported(rendered, scrape):
    exported = exported_names(scrape)
    expressions = [rule['expr'] for rule in alert_rules(rendered).values()]
    expressions += dashboard_exprs(dashboard(rendered))
    named = {name for expr in expressions for name in METRIC.findall(expr)}
    assert named and named <= exported, sorted(named - exported)
    # And the dashboard shows every family the monitor exports.
    families = {family(name) for name in exported}
    shown = {family(name) for expr in dashboard_exprs(dashboard(rendered))
             for name in METRIC.findall(expr)}
    assert families <= shown, sorted(families - shown)


def test_label_values_named_are_exported(rendered, scrape):
    expressions = ' '.join(rule['expr']
                           for rule in alert_rules(rendered).values())
    seen = {(key, value) for _, labels, _ in scrape
            for key, value in labels.items()}
    assert ('resource', 'nodes') in seen and \
        'resource="nodes"' in expressions
    assert ('guard', 'storm') in seen
    for result in re.findall(r'result=~?"([^"]+)"', expressions):
        assert set(result.split('|')) <= NOTIFICATION_RESULTS


# -- promtool --------------------------------------------------------------

def series_line(name, labels, values):
    labels = dict(labels, **SCRAPE_LABELS)
    body = ','.join('%s=%s' % (key, json.dumps(labels[key]))
                    for key in sorted(labels))
    return {'series': '%s{%s}' % (name, body), 'values': values}


def input_series(scrape, change=None):
    """Series of the scrape held for 30 minutes; ``change`` edits one.

    ``change(name, labels, value)`` returns a promtool values string for
    the sample it alters (or None to keep it); extra samples come from
    its ``extra`` attribute.
    """
    series = []
    for name, labels, value in scrape:
        if name.endswith('_created') or value != value:  # NaN
            continue
        values = change(name, labels, value) if change else None
        if values is None:
            values = '%s+0x30' % value
        series.append(series_line(name, labels, values))
    for name, labels, values in getattr(change, 'extra', ()):
        series.append(series_line(name, labels, values))
    return series


def counter_growing(target, **label_filter):
    def change(name, labels, value):
        if name == target and all(labels.get(key) == wanted
                                  for key, wanted in label_filter.items()):
            return '%s+1x30' % value
        return None
    return change


def set_to(target, new_value, **label_filter):
    def change(name, labels, value):
        if name == target and all(labels.get(key) == wanted
                                  for key, wanted in label_filter.items()):
            return '%sx30' % new_value
        return None
    return change


def new_failed_deliveries(scrape):
    """A failed STOPPED series beside the accepted ones."""
    change = counter_growing('none')
    change.extra = [('masakari_k8s_notifications_total',
                     {'event': 'STOPPED', 'result': 'failed'}, '0+1x30')]
    return change


def promtool_cases(scrape):
    stale = set_to('masakari_k8s_watch_synced', 0, resource='nodes')
    fencing = counter_growing('masakari_k8s_fencing_failures_total')
    unmapped = counter_growing('masakari_k8s_unmapped_nodes_total')
    return [
        ('healthy', None, set()),
        ('no leader', set_to('masakari_k8s_leader', 0),
         {'MasakariHostMonitorNoLeader'}),
        ('node view stale', stale, {'MasakariHostMonitorNodeViewStale'}),
        ('storm', set_to('masakari_k8s_guard_holding', 1, guard='storm'),
         {'MasakariHostMonitorStormGuardEngaged'}),
        ('deliveries failing', new_failed_deliveries(scrape),
         {'MasakariHostMonitorDeliveriesFailing'}),
        ('unmapped nodes', unmapped,
         {'MasakariHostMonitorNodesWithoutMasakariHost'}),
        ('fencing failed', fencing, {'MasakariHostMonitorFencingFailed'}),
    ]


@pytest.fixture(scope='module')
def promtool():
    found = find_promtool()
    if found is None:
        pytest.skip('promtool not found (PROMTOOL, PATH or '
                    '~/.cache/masakari-k8s-tools/bin): build it with `go '
                    'install github.com/prometheus/prometheus/cmd/'
                    'promtool@latest`')
    return found


def run_promtool(promtool, *arguments, cwd):
    return subprocess.run([promtool, *arguments], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)


def test_promtool_checks_the_rules(promtool, rendered, tmp_path):
    (tmp_path / 'rules.yaml').write_text(yaml.safe_dump(
        {'groups': rule_groups(rendered)}))
    done = run_promtool(promtool, 'check', 'rules', 'rules.yaml',
                        cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'SUCCESS: 6 rules found' in done.stdout + done.stderr


def test_each_alert_fires_on_its_condition_only(promtool, rendered, scrape,
                                                tmp_path):
    (tmp_path / 'rules.yaml').write_text(yaml.safe_dump(
        {'groups': rule_groups(rendered)}))
    tests = []
    for name, change, firing in promtool_cases(scrape):
        checks = []
        for alert in sorted(ALERTS):
            checks.append({
                'eval_time': '20m', 'alertname': alert,
                'exp_alerts': [] if alert not in firing else None})
        tests.append({'name': name, 'interval': '1m',
                      'input_series': input_series(scrape, change),
                      'alert_rule_test': checks})
    # exp_alerts of a firing alert need its exact labels and annotations;
    # promtool prints them on a mismatch, so firing ones are checked by
    # the failure text below instead.
    for case in tests:
        for check in case['alert_rule_test']:
            if check['exp_alerts'] is None:
                check['exp_alerts'] = []
    (tmp_path / 'tests.yaml').write_text(yaml.safe_dump(
        {'rule_files': ['rules.yaml'], 'evaluation_interval': '1m',
         'tests': tests}))
    done = run_promtool(promtool, 'test', 'rules', 'tests.yaml',
                        cwd=tmp_path)
    output = done.stdout + done.stderr
    # Every failure must be a firing alert we expect, in its own case.
    expected = {(name, alert) for name, _, firing in promtool_cases(scrape)
                for alert in firing}
    reported = set(re.findall(
        r'name: ([^,\n]+),\s*\n?\s*alertname: (\w+)', output))
    assert reported == expected, output
