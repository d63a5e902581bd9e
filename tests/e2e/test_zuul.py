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

"""The Zuul configuration refers only to what the repository has.

Zuul itself is not here to load ``zuul.d/``, so its promises are checked
the way a reviewer would: the YAML passes the repository's yamllint rules
(OpenStack-Helm's, ``.yamllint``), every job a pipeline runs is defined,
every parent is a local job or one of the openstack-zuul-jobs jobs named
below, every playbook exists, every tox environment is in tox.ini, and
the playbooks import only files and roles that exist. Each check is also
shown a broken configuration, so that it can fail.
"""

import configparser
import pathlib
import re

import pytest
import yaml
from yamllint import config as yamllint_config
from yamllint import linter as yamllint_linter

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
ZUUL_DIR = REPO_ROOT / 'zuul.d'
PLAYBOOK_DIR = REPO_ROOT / 'playbooks'
YAMLLINT_RULES = REPO_ROOT / '.yamllint'
# Jobs from openstack/openstack-zuul-jobs that ours build on.
UPSTREAM_JOBS = {'openstack-tox', 'openstack-tox-pep8'}
# Roles from zuul/zuul-jobs that our playbooks use.
UPSTREAM_ROLES = {'ensure-docker'}
PIPELINES = ('check', 'gate')
PLAYBOOK_KEYS = ('pre-run', 'run', 'post-run', 'cleanup-run')
IMPORT_KEYS = ('ansible.builtin.import_tasks', 'ansible.builtin.include_tasks',
               'import_tasks', 'include_tasks')


class ZuulConfig:
    """The jobs and project stanzas of a zuul.d directory."""

    def __init__(self, directory):
        self.jobs = {}
        self.projects = []
        for path in sorted(pathlib.Path(directory).glob('*.yaml')):
            for entry in yaml.safe_load(path.read_text()) or ():
                (kind, body), = entry.items()
                if kind == 'job':
                    self.jobs[body['name']] = body
                elif kind == 'project':
                    self.projects.append(body)

    def pipeline_jobs(self, pipeline):
        names = []
        for project in self.projects:
            for job in (project.get(pipeline) or {}).get('jobs') or ():
                names.append(job if isinstance(job, str) else next(iter(job)))
        return names


def tox_environments():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO_ROOT / 'tox.ini')
    return {section.split(':', 1)[1] for section in parser.sections()
            if section.startswith('testenv:')}


def problems_of(config, *, environments, root=REPO_ROOT):
    """Everything in ``config`` that points at nothing."""
    found = []
    for pipeline in PIPELINES:
        for name in config.pipeline_jobs(pipeline):
            if name not in config.jobs:
                found.append('%s runs undefined job %s' % (pipeline, name))
    for name, job in config.jobs.items():
        parent = job.get('parent')
        if parent and parent not in config.jobs \
                and parent not in UPSTREAM_JOBS:
            found.append('%s: unknown parent %s' % (name, parent))
        for key in PLAYBOOK_KEYS:
            playbooks = job.get(key) or []
            for playbook in ([playbooks] if isinstance(playbooks, str)
                             else playbooks):
                if not (root / playbook).is_file():
                    found.append('%s: %s %s does not exist'
                                 % (name, key, playbook))
        envlist = (job.get('vars') or {}).get('tox_envlist')
        if envlist is None:
            found.append('%s: no tox_envlist' % name)
        for environment in (envlist or '').split(','):
            if environment.strip() not in environments:
                found.append('%s: tox env %s is not in tox.ini'
                             % (name, environment))
        for key in ('files', 'irrelevant-files'):
            for pattern in job.get(key) or ():
                try:
                    re.compile(pattern)
                except re.error as exc:
                    found.append('%s: %s %r: %s' % (name, key, pattern, exc))
    return found


def playbook_problems(path):
    """Imports and roles of a playbook that do not exist."""
    found = []
    for play in yaml.safe_load(path.read_text()) or ():
        for role in play.get('roles') or ():
            role = role if isinstance(role, str) else role.get('role')
            if role not in UPSTREAM_ROLES and not (
                    path.parent / 'roles' / role).is_dir():
                found.append('%s: role %s is neither local nor from '
                             'zuul-jobs' % (path.name, role))
        for var_file in play.get('vars_files') or ():
            if not (path.parent / var_file).is_file():
                found.append('%s: vars file %s does not exist'
                             % (path.name, var_file))
        for section in ('pre_tasks', 'tasks', 'post_tasks'):
            for task in play.get(section) or ():
                for key in IMPORT_KEYS:
                    if key in task and not (path.parent / task[key]).is_file():
                        found.append('%s: %s %s does not exist'
                                     % (path.name, key, task[key]))
    return found


def yamllint_problems(paths):
    rules = yamllint_config.YamlLintConfig(file=str(YAMLLINT_RULES))
    found = []
    for path in paths:
        with open(path) as stream:
            for problem in yamllint_linter.run(stream, rules, str(path)):
                found.append('%s:%d: %s' % (path, problem.line,
                                            problem.message))
    return found


def linted_files():
    return sorted(list(ZUUL_DIR.glob('*.yaml'))
                  + list(PLAYBOOK_DIR.rglob('*.yaml'))
                  + list((REPO_ROOT / 'tools' / 'kind').rglob('*.yaml')))


def top_level_playbooks():
    return sorted(PLAYBOOK_DIR.glob('*.yaml'))


def test_zuul_playbooks_and_kind_files_pass_yamllint():
    files = linted_files()
    assert {path.parent.name for path in files} >= {'zuul.d', 'playbooks',
                                                    'tasks', 'kind'}
    assert yamllint_problems(files) == []


def test_yamllint_rules_apply_to_zuul_files(tmp_path):
    # Zuul files written the usual way (no document markers, a long line
    # with trailing space) must be caught.
    sloppy = tmp_path / 'jobs.yaml'
    sloppy.write_text('- job:\n    name: x \n')
    messages = ' '.join(yamllint_problems([sloppy]))
    assert 'document start' in messages
    assert 'trailing spaces' in messages


def test_every_job_playbook_and_tox_env_exists():
    config = ZuulConfig(ZUUL_DIR)
    assert config.pipeline_jobs('check')
    assert problems_of(config, environments=tox_environments()) == []


def test_check_and_gate_run_the_same_jobs():
    config = ZuulConfig(ZUUL_DIR)
    assert config.pipeline_jobs('check') == config.pipeline_jobs('gate')


def test_the_required_jobs_are_there():
    config = ZuulConfig(ZUUL_DIR)
    envs = {job['vars']['tox_envlist'] for job in config.jobs.values()}
    assert {'pep8', 'unit', 'functional', 'chart', 'e2e-kind'} <= envs
    kind_job = next(job for job in config.jobs.values()
                    if job['vars']['tox_envlist'] == 'e2e-kind')
    pre_run = (REPO_ROOT / kind_job['pre-run']).read_text()
    # docker from zuul-jobs; kind, kubectl and helm from our tasks.
    assert 'ensure-docker' in pre_run
    assert 'tasks/install-kind.yaml' in pre_run
    assert 'tasks/install-helm.yaml' in pre_run
    kind_tasks = (PLAYBOOK_DIR / 'tasks' / 'install-kind.yaml').read_text()
    assert 'dest: /usr/local/bin/kind' in kind_tasks
    assert 'dest: /usr/local/bin/kubectl' in kind_tasks
    helm_tasks = (PLAYBOOK_DIR / 'tasks' / 'install-helm.yaml').read_text()
    assert '/helm"' in helm_tasks and 'dest: /usr/local/bin' in helm_tasks


@pytest.mark.parametrize('playbook', top_level_playbooks(),
                         ids=lambda path: path.name)
def test_playbook_imports_and_roles_exist(playbook):
    assert playbook_problems(playbook) == []


def test_reference_checks_catch_dangling_names(tmp_path):
    (tmp_path / 'zuul.d').mkdir()
    (tmp_path / 'zuul.d' / 'broken.yaml').write_text(yaml.safe_dump([
        {'job': {'name': 'a', 'parent': 'no-such-parent',
                 'pre-run': 'playbooks/missing.yaml',
                 'irrelevant-files': ['(unclosed'],
                 'vars': {'tox_envlist': 'no-such-env'}}},
        {'project': {'check': {'jobs': ['a', 'b']}}},
    ]))
    problems = problems_of(ZuulConfig(tmp_path / 'zuul.d'),
                           environments={'pep8'}, root=tmp_path)
    text = '\n'.join(problems)
    for expected in ('undefined job b', 'unknown parent no-such-parent',
                     'playbooks/missing.yaml does not exist',
                     'tox env no-such-env', "'(unclosed'"):
        assert expected in text
    playbook = tmp_path / 'play.yaml'
    playbook.write_text(yaml.safe_dump([{
        'hosts': 'all', 'roles': ['ensure-nothing'],
        'vars_files': ['nope.yaml'],
        'tasks': [{'import_tasks': 'tasks/absent.yaml'}]}]))
    assert len(playbook_problems(playbook)) == 3
