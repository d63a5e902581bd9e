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

"""Sphinx configuration of the documentation (``tox -e docs``).

The configuration reference is generated from the options themselves by
oslo.config's Sphinx extension (``.. show-options::``), so it cannot drift
from the code; the build runs with ``-W`` so a broken reference or a
malformed help string fails it.
"""

from importlib import metadata

# oslo.config's show-options finds the options through this entry point;
# without it (the package not installed in the docs environment) it renders
# an empty reference without a single warning.
OPTIONS_NAMESPACE = 'masakarimonitors_k8s'
if not any(entry.name == OPTIONS_NAMESPACE for entry in
           metadata.entry_points(group='oslo.config.opts')):
    raise RuntimeError('entry point oslo.config.opts:%s not found: install '
                       'the package into the docs environment'
                       % OPTIONS_NAMESPACE)

extensions = [
    'openstackdocstheme',
    'oslo_config.sphinxext',
]

project = 'masakari-monitors-k8s'
copyright = '2026, The masakari-monitors-k8s Authors'

# openstackdocstheme: where the sources and bugs live.
openstackdocs_repo_name = 'masakari-monitors-k8s'
openstackdocs_bug_project = 'masakari-monitors-k8s'
openstackdocs_bug_tag = 'doc'
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
html_last_updated_fmt = '%Y-%m-%d'
