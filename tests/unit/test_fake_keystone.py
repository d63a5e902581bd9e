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

"""The test bed's Keystone, as keystoneauth (what the monitor uses) sees it."""

from keystoneauth1 import exceptions as ks_exceptions
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import pytest

from masakarimonitors_k8s.testing import keystone as fake_keystone

CATALOG_URL = 'http://127.0.0.1:15868/v1'


@pytest.fixture
def keystone():
    with fake_keystone.FakeKeystone(CATALOG_URL, 'admin:admin',
                                    password='right') as server:
        yield server


def password_session(keystone, password):
    return ks_session.Session(auth=v3.Password(
        auth_url=keystone.auth_url, username='masakari', password=password,
        project_name='service', user_domain_name='service',
        project_domain_name='service'))


@pytest.mark.parametrize('interface', ['public', 'internal', 'admin'])
def test_the_right_password_gets_a_token_and_masakari_in_the_catalog(
        keystone, interface):
    session = password_session(keystone, 'right')
    assert session.get_token() == 'admin:admin'
    assert session.get_endpoint(service_type='instance-ha',
                                interface=interface,
                                region_name='RegionOne') == CATALOG_URL
    assert keystone.attempts == [('masakari', True)]


def test_a_wrong_password_is_401(keystone):
    with pytest.raises(ks_exceptions.Unauthorized) as caught:
        password_session(keystone, 'wrong').get_token()
    assert caught.value.http_status == 401
    assert keystone.attempts == [('masakari', False)]


def test_the_password_can_change_between_requests(keystone):
    keystone.password = 'rotated'
    with pytest.raises(ks_exceptions.Unauthorized):
        password_session(keystone, 'right').get_token()
    assert password_session(keystone, 'rotated').get_token() == 'admin:admin'
