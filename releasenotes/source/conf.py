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

"""Sphinx configuration of the release notes (``tox -e releasenotes``).

The notes are YAML files under ``releasenotes/notes`` managed with reno;
its Sphinx extension collects them from the git history, version by
version.
"""

extensions = [
    'openstackdocstheme',
    'reno.sphinxext',
]

project = 'masakari-monitors-k8s Release Notes'
copyright = '2026, The masakari-monitors-k8s Authors'

openstackdocs_repo_name = 'masakari-monitors-k8s'
openstackdocs_bug_project = 'masakari-monitors-k8s'
openstackdocs_bug_tag = 'releasenotes'
openstackdocs_auto_name = False
openstackdocs_use_storyboard = False

source_suffix = {'.rst': 'restructuredtext'}
master_doc = 'index'
exclude_patterns = ['_build']
pygments_style = 'native'

html_theme = 'openstackdocs'
# Not an openstack.org site: no tracking script, no governance badge.
html_theme_options = {'analytics_tracking_code': '', 'display_badge': False}
html_static_path = []
