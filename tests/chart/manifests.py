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

"""Small readers of rendered manifests, shared by the chart tests."""

import base64


def objects_of_kind(objects, kind):
    return [item for item in objects if item.get('kind') == kind]


def the_object(objects, kind):
    """The one object of ``kind``; fails if there are none or several."""
    found = objects_of_kind(objects, kind)
    assert len(found) == 1, 'expected one %s, found %d' % (kind, len(found))
    return found[0]


def secret_files(secret):
    """The decoded files of a Secret (``data`` and ``stringData``)."""
    files = {key: base64.b64decode(value).decode()
             for key, value in (secret.get('data') or {}).items()}
    files.update(secret.get('stringData') or {})
    return files
