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

"""Exponential backoff with jitter, shared by the watch and delivery.

Jitter (+/-20 %) spreads replicas and restarted monitors apart; the result
never exceeds ``maximum``, which the options' help calls the longest delay.
"""

# 2**30 times any sane initial delay is far past any maximum; capping the
# exponent keeps the arithmetic finite after days of failures.
_MAX_EXPONENT = 30


def delay(attempt, *, initial, maximum, rng):
    """Seconds to wait before try number ``attempt + 1`` (attempt >= 1)."""
    exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
    base = min(maximum, initial * 2 ** exponent)
    return min(maximum, base * (0.8 + 0.4 * rng.random()))
