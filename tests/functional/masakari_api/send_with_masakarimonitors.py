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

"""Send one event the way masakari-hostmonitor does, in its own process.

Run by test_masakarimonitors_client.py as
``python send_with_masakarimonitors.py CONFIG_FILE < event.json``.
masakari-monitors keeps its options in one global oslo.config object, so
its configuration is parsed here, in a process of its own, exactly as its
``masakari-hostmonitor`` entry point does, and never in the test process.
SendNotification swallows 400/409 and logs them; the log goes to stdout
for the test to read.
"""

import json
import sys

import masakarimonitors.conf
from masakarimonitors import config
from masakarimonitors.ha import masakari
from oslo_log import log as logging


def main(argv):
    conf = masakarimonitors.conf.CONF
    config.parse_args(['send_with_masakarimonitors',
                       '--config-file', argv[1]])
    logging.setup(conf, 'masakarimonitors')
    event = json.load(sys.stdin)
    masakari.SendNotification().send_notification(
        api_retry_max=0, api_retry_interval=0, event=event)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
