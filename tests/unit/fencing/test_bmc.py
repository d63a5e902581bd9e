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

"""BMC map, credentials file and per-node target resolution.

The files are written to disk and loaded through
``BmcDirectory.from_settings``, the path an operator's file takes. Every
bad file must stop start-up with a ConfigError naming the option, and no
message may contain a password.
"""

import json
import re

import pytest

from masakarimonitors_k8s import conf
from masakarimonitors_k8s.fencing import bmc

SECRET = 's3cret-Pa55'
NODE_SECRET = 'node-only-pa55'


@pytest.fixture
def write(tmp_path):
    """write(name, text) -> path of a new file in tmp_path."""
    def write(name, text):
        path = tmp_path / name
        path.write_text(text)
        return str(path)
    return write


@pytest.fixture
def credentials_file(write):
    return write('credentials.yaml',
                 'username: admin\npassword: %s\n' % SECRET)


def settings(credentials_file, bmc_map_file=None):
    return conf.RedfishSettings(credentials_file=credentials_file,
                                bmc_map_file=bmc_map_file)


# -- addresses --------------------------------------------------------------

@pytest.mark.parametrize('text, address, system', [
    ('https://192.0.2.1', 'https://192.0.2.1', None),
    ('https://192.0.2.1/', 'https://192.0.2.1', None),
    ('https://192.0.2.1/redfish/v1', 'https://192.0.2.1', None),
    ('https://192.0.2.1/redfish/v1/', 'https://192.0.2.1', None),
    ('http://bmc.example.org:8000', 'http://bmc.example.org:8000', None),
    ('https://[2001:db8::1]:443', 'https://[2001:db8::1]:443', None),
    ('  https://192.0.2.1/redfish/v1/Systems/1  ', 'https://192.0.2.1',
     '/redfish/v1/Systems/1'),
    ('https://192.0.2.1/redfish/v1/Systems/System.Embedded.1/',
     'https://192.0.2.1', '/redfish/v1/Systems/System.Embedded.1'),
])
def test_address_strings_name_a_service_and_maybe_a_system(
        text, address, system):
    location = bmc.parse_location(text)
    assert location == bmc.BmcLocation(address, system)


@pytest.mark.parametrize('text, complaint', [
    ('192.0.2.1', r'not an http\(s\) URL'),
    ('ftp://192.0.2.1', r'not an http\(s\) URL'),
    ('https://', r'not an http\(s\) URL'),
    ('https://192.0.2.1:99999', 'invalid port'),
    ('https://192.0.2.1/redfish/v1/Managers/1', 'the path must be'),
    ('https://192.0.2.1/redfish/v1/Systems', 'the path must be'),
    ('https://192.0.2.1/redfish/v1/Systems/1/Bios', 'the path must be'),
    ('https://192.0.2.1/?x=1', 'no query or fragment'),
    (42, 'not a string'),
])
def test_bad_address_strings_are_refused_with_the_reason(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        bmc.parse_location(text)


def test_an_address_with_credentials_is_refused_without_echoing_them():
    with pytest.raises(ValueError) as caught:
        bmc.parse_location('https://admin:%s@192.0.2.1' % SECRET)
    assert 'must not hold credentials' in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_map_entry_may_be_a_dict_with_address_and_system():
    assert bmc.parse_map_entry(
        {'address': 'https://192.0.2.1', 'system': '/redfish/v1/Systems/7'}
    ) == bmc.BmcLocation('https://192.0.2.1', '/redfish/v1/Systems/7')
    assert bmc.parse_map_entry({'address': 'https://192.0.2.1'}) == (
        bmc.BmcLocation('https://192.0.2.1'))


@pytest.mark.parametrize('entry, complaint', [
    ({'system': '/redfish/v1/Systems/1'}, 'has no address'),
    ({'address': 'https://192.0.2.1', 'sytem': '/redfish/v1/Systems/1'},
     'unknown key'),
    ({'address': 'https://192.0.2.1/redfish/v1/Systems/1',
      'system': '/redfish/v1/Systems/1'}, 'both in address and in system'),
    ({'address': 'https://192.0.2.1', 'system': 'Systems/1'},
     'the path must be'),
    ({'address': 'https://192.0.2.1', 'system': 1}, 'not a string'),
    (['https://192.0.2.1'], 'not a string'),
])
def test_bad_map_entries_are_refused(entry, complaint):
    with pytest.raises(ValueError, match=complaint):
        bmc.parse_map_entry(entry)


# -- files ------------------------------------------------------------------

def test_yaml_map_and_credentials_load(write, credentials_file):
    map_file = write('map.yaml', '\n'.join([
        'compute-01: https://192.0.2.1',
        'compute-02: https://192.0.2.2/redfish/v1/Systems/1',
        'compute-03:',
        '  address: https://192.0.2.3',
        '  system: /redfish/v1/Systems/Self',
    ]))
    directory = bmc.BmcDirectory.from_settings(
        settings(credentials_file, map_file))

    assert directory.target_for('compute-01') == bmc.BmcTarget(
        'compute-01', 'https://192.0.2.1', None, 'admin', SECRET)
    assert directory.target_for('compute-02').system_path == (
        '/redfish/v1/Systems/1')
    assert directory.target_for('compute-03').url == (
        'https://192.0.2.3/redfish/v1/Systems/Self')


def test_json_files_load_too(write):
    credentials = write('credentials.json', json.dumps(
        {'username': 'root', 'password': SECRET}))
    map_file = write('map.json', json.dumps(
        {'compute-01': 'https://192.0.2.1'}))
    target = bmc.BmcDirectory.from_settings(
        settings(credentials, map_file)).target_for('compute-01')
    assert (target.address, target.username, target.password) == (
        'https://192.0.2.1', 'root', SECRET)


@pytest.mark.parametrize('map_text, complaint', [
    ('- https://192.0.2.1\n', 'is not a mapping of node name'),
    ('"just a string"\n', 'is not a mapping of node name'),
    ('', 'is empty'),
    ('compute-01: 192.0.2.1\n', "node compute-01: '192.0.2.1' is not an "
                                "http\\(s\\) URL"),
    ('compute-01: https://192.0.2.1/ipmi\n', 'node compute-01: .*path'),
    ('compute-01:\n', 'node compute-01: None is not a string'),
    ('42: https://192.0.2.1\n', 'node name 42 is not a string'),
    ('compute-01: [unclosed\n', 'is not valid YAML or JSON \\(line'),
])
def test_bad_map_files_name_the_option_and_the_problem(
        write, credentials_file, map_text, complaint):
    map_file = write('map.yaml', map_text)
    with pytest.raises(conf.ConfigError) as caught:
        bmc.BmcDirectory.from_settings(settings(credentials_file, map_file))
    message = str(caught.value)
    assert message.startswith('[k8s] redfish_bmc_map_file = %r: '
                              % map_file)
    assert re.search(complaint, message), message


def test_a_missing_map_file_is_a_config_error(tmp_path, credentials_file):
    missing = str(tmp_path / 'nowhere.yaml')
    with pytest.raises(conf.ConfigError,
                       match=r'redfish_bmc_map_file = .*no such file'):
        bmc.BmcDirectory.from_settings(settings(credentials_file, missing))


def test_an_empty_map_mapping_is_allowed(write, credentials_file):
    directory = bmc.BmcDirectory.from_settings(
        settings(credentials_file, write('map.yaml', '{}\n')))
    assert directory.target_for('compute-01') is None


@pytest.mark.parametrize('credentials_text, complaint', [
    ('username: admin\n', 'the file has no password'),
    ('password: %s\n' % SECRET, 'the file has no username'),
    ('username: admin\npassword: 12345\n',
     'password must be a string \\(quote it in YAML\\)'),
    ('username: admin\npassword: ""\n', 'password is empty'),
    ('username: admin\npasword: %s\n' % SECRET, 'unknown key.*pasword'),
    ('- admin\n- %s\n' % SECRET, 'is not a mapping'),
    ('', 'is empty'),
    ('{}\n', 'has neither username and password nor nodes'),
    ('nodes:\n  compute-01:\n    username: root\n',
     "node 'compute-01' has no password"),
    ('nodes:\n  compute-01:\n    password: %s\n' % NODE_SECRET,
     "node 'compute-01' has no username"),
    ('username: admin\npassword: %s\nnodes: [compute-01]\n' % SECRET,
     'nodes is not a mapping'),
    ('username: admin\npassword: %s\nnodes:\n  compute-01: %s\n'
     % (SECRET, NODE_SECRET), "node 'compute-01' is not a mapping"),
    ('username: admin\npassword: "%s\n' % SECRET,
     'is not valid YAML or JSON'),
    ('username: admin\npassword: %s\nbmcs: [192.0.2.1]\n' % SECRET,
     'bmcs is not a mapping of BMC host names'),
    ('bmcs:\n  192.0.2.1:\n    password: %s\n' % NODE_SECRET,
     "BMC host '192.0.2.1' has no username"),
    ('username: admin\npassword: %s\nbmcs:\n  192.0.2.1:\n    pw: x\n'
     % SECRET, "BMC host '192.0.2.1': unknown key"),
])
def test_bad_credentials_files_name_the_option_never_the_password(
        write, credentials_text, complaint):
    path = write('credentials.yaml', credentials_text)
    with pytest.raises(conf.ConfigError) as caught:
        bmc.BmcDirectory.from_settings(settings(path))
    message = str(caught.value)
    assert message.startswith('[k8s] redfish_credentials_file = %r: '
                              % path)
    assert re.search(complaint, message), message
    assert SECRET not in message
    assert NODE_SECRET not in message


def test_credentials_are_required(tmp_path):
    with pytest.raises(conf.ConfigError,
                       match='redfish_credentials_file = None: is required'):
        bmc.BmcDirectory.from_settings(settings(None))
    with pytest.raises(conf.ConfigError,
                       match='redfish_credentials_file = .*no such file'):
        bmc.BmcDirectory.from_settings(
            settings(str(tmp_path / 'absent')))


def test_every_mapped_node_needs_credentials(write):
    credentials = write('credentials.yaml',
                        'nodes:\n  compute-01:\n    username: a\n'
                        '    password: %s\n' % NODE_SECRET)
    map_file = write('map.yaml', 'compute-01: https://192.0.2.1\n'
                                 'compute-02: https://192.0.2.2\n')
    with pytest.raises(conf.ConfigError,
                       match='no credentials for node.s. compute-02 of '
                             'redfish_bmc_map_file'):
        bmc.BmcDirectory.from_settings(settings(credentials, map_file))


def test_plain_http_map_entries_stop_start_up(write, credentials_file):
    map_file = write('map.yaml', 'compute-01: http://192.0.2.1\n'
                                 'compute-02: https://192.0.2.2\n')
    with pytest.raises(conf.ConfigError,
                       match=r'\[k8s\] redfish_bmc_map_file = .*node\(s\) '
                             r'compute-01 have a plain http BMC address.*'
                             r'redfish_allow_http = true'):
        bmc.BmcDirectory.from_settings(settings(credentials_file, map_file))


def test_plain_http_map_entries_are_warned_about_when_allowed(
        write, credentials_file, caplog):
    map_file = write('map.yaml', 'compute-01: http://192.0.2.1\n'
                                 'compute-02: https://192.0.2.2\n')
    bmc.BmcDirectory.from_settings(conf.RedfishSettings(
        credentials_file=credentials_file, bmc_map_file=map_file,
        allow_http=True))
    warnings = [r.getMessage() for r in caplog.records
                if r.levelname == 'WARNING']
    assert any('compute-01' in w and 'unencrypted' in w for w in warnings)
    assert not any('compute-02' in w for w in warnings)


# -- target resolution ------------------------------------------------------

CREDENTIALS_WITH_OVERRIDES = '\n'.join([
    'username: admin',
    'password: %s' % SECRET,
    'nodes:',
    '  compute-02:',
    '    username: root',
    '    password: %s' % NODE_SECRET,
    '  compute-03:',
    '    password: %s' % NODE_SECRET,
    '  compute-98:',
    '    password: %s' % NODE_SECRET,
    'bmcs:',
    '  BMC-77.example.org:',
    '    username: bmc77',
    '    password: bmc-only-pa55',
])
MAP = '\n'.join([
    'compute-01: https://192.0.2.1',
    'compute-02: https://192.0.2.2/redfish/v1/Systems/2',
    'compute-03: https://192.0.2.3',
    'compute-04: https://bmc-77.example.org',
])


@pytest.fixture
def directory_for(write):
    """directory_for(**RedfishSettings fields) over the files above."""
    def make(**options):
        return bmc.BmcDirectory.from_settings(conf.RedfishSettings(
            credentials_file=write('credentials.yaml',
                                   CREDENTIALS_WITH_OVERRIDES),
            bmc_map_file=write('map.yaml', MAP), **options))
    return make


@pytest.fixture
def directory(directory_for):
    return directory_for()


@pytest.fixture
def trusting(directory_for):
    """Annotations trusted within 198.51.100.0/24 and bmc-9.example.org."""
    return directory_for(
        trust_bmc_annotation=True,
        bmc_allowed_hosts=conf.BmcHostAllowList.parse(
            ['198.51.100.0/24', 'BMC-9.example.org', '192.0.2.0/24']))


def test_the_map_beats_the_annotation(directory, trusting):
    for each in (directory, trusting):
        target = each.target_for(
            'compute-01',
            bmc_address='https://198.51.100.7/redfish/v1/Systems/9')
        assert (target.address, target.system_path) == (
            'https://192.0.2.1', None)


def test_an_annotation_is_ignored_unless_trusted(directory):
    with pytest.raises(bmc.BmcTargetError) as caught:
        directory.target_for('compute-99',
                             bmc_address='https://198.51.100.7')
    message = str(caught.value)
    assert message.startswith('node compute-99: its BMC annotation is '
                              'ignored')
    assert 'redfish_bmc_map_file' in message
    assert 'redfish_trust_bmc_annotation' in message


@pytest.mark.parametrize('address', [
    'https://203.0.113.9',             # outside every allowed network
    'https://attacker.example',        # a name that is not listed
    'https://bmc-9.example.org.evil',  # suffix tricks do not match
    'https://[2001:db8::1]',
])
def test_a_trusted_annotation_must_name_an_allowed_host(trusting, address):
    with pytest.raises(bmc.BmcTargetError,
                       match='node compute-99: its BMC annotation names .* '
                             'not in \\[k8s\\] redfish_bmc_allowed_hosts'):
        trusting.target_for('compute-99', bmc_address=address)


def test_a_trusted_annotation_within_the_allow_list_gets_default_credentials(
        trusting):
    target = trusting.target_for('compute-99',
                                 bmc_address='https://198.51.100.9')
    assert (target.node, target.address, target.system_path,
            target.username, target.password) == (
        'compute-99', 'https://198.51.100.9', None, 'admin', SECRET)
    named = trusting.target_for('compute-99',
                                bmc_address='https://bmc-9.EXAMPLE.org')
    assert named.address == 'https://bmc-9.EXAMPLE.org'


def test_node_credentials_never_go_to_an_address_the_node_wrote(trusting):
    # compute-98 has its own password, for a map entry it does not have;
    # its annotation gets the default instead.
    target = trusting.target_for('compute-98',
                                 bmc_address='https://198.51.100.98')
    assert (target.username, target.password) == ('admin', SECRET)
    assert NODE_SECRET not in (target.username, target.password)


def test_credentials_bound_to_a_bmc_host_follow_that_host(trusting):
    mapped = trusting.target_for('compute-04')
    assert (mapped.username, mapped.password) == ('bmc77', 'bmc-only-pa55')


def test_bmc_credentials_match_ipv6_hosts_with_or_without_brackets():
    credentials = bmc.CredentialStore(per_bmc={
        '[2001:DB8::7]': bmc.Credentials('six', NODE_SECRET)})
    directory = bmc.BmcDirectory(
        {'compute-06': bmc.parse_location('https://[2001:db8::7]:8443')},
        credentials)
    assert directory.target_for('compute-06').username == 'six'


def test_an_annotation_naming_another_nodes_mapped_bmc_is_refused(trusting):
    with pytest.raises(bmc.BmcTargetError,
                       match='node compute-99: its BMC annotation names '
                             'https://192.0.2.1, the BMC of node compute-01'):
        trusting.target_for('compute-99',
                            bmc_address='https://192.0.2.1/redfish/v1/'
                                        'Systems/1')


def test_a_plain_http_annotation_is_refused_unless_allowed(directory_for):
    allowed = conf.BmcHostAllowList.parse(['198.51.100.0/24'])
    strict = directory_for(trust_bmc_annotation=True,
                           bmc_allowed_hosts=allowed)
    with pytest.raises(bmc.BmcTargetError,
                       match='refusing the plain http BMC address'):
        strict.target_for('compute-99', bmc_address='http://198.51.100.9')
    lax = directory_for(trust_bmc_annotation=True, bmc_allowed_hosts=allowed,
                        allow_http=True)
    assert lax.target_for('compute-99', bmc_address='http://198.51.100.9'
                          ).address == 'http://198.51.100.9'


def test_a_blank_annotation_falls_back_to_the_map(directory):
    assert directory.target_for('compute-01', bmc_address='  ').address == (
        'https://192.0.2.1')


def test_a_node_without_annotation_or_map_entry_has_no_bmc(directory):
    assert directory.target_for('compute-99') is None
    assert directory.target_for('compute-99', bmc_address=None) is None
    assert directory.target_for('compute-99', bmc_address=' ') is None


def test_per_node_credentials_override_the_default(directory):
    two = directory.target_for('compute-02')
    assert (two.username, two.password, two.system_path) == (
        'root', NODE_SECRET, '/redfish/v1/Systems/2')
    # A per-node entry without username keeps the default user.
    three = directory.target_for('compute-03')
    assert (three.username, three.password) == ('admin', NODE_SECRET)
    one = directory.target_for('compute-01')
    assert (one.username, one.password) == ('admin', SECRET)


def test_a_bad_trusted_annotation_is_an_error_for_that_node(trusting):
    with pytest.raises(bmc.BmcTargetError,
                       match='node compute-99: bad BMC address annotation: '
                             "'bmc-01' is not an http"):
        trusting.target_for('compute-99', bmc_address='bmc-01')


def test_an_annotated_node_without_credentials_is_an_error():
    directory = bmc.BmcDirectory(
        {}, bmc.CredentialStore(per_node={
            'compute-02': bmc.Credentials('a', NODE_SECRET)}),
        trust_annotation=True,
        allowed_hosts=conf.BmcHostAllowList.parse(['192.0.2.0/24']))
    with pytest.raises(bmc.BmcTargetError,
                       match='node compute-02: no BMC credentials'):
        directory.target_for('compute-02', bmc_address='https://192.0.2.2')


@pytest.mark.parametrize('entries, host, allowed', [
    (['192.0.2.0/24'], '192.0.2.200', True),
    (['192.0.2.0/24'], '192.0.3.1', False),
    (['192.0.2.7'], '192.0.2.7', True),
    (['2001:db8::/64'], '2001:db8::5', True),
    (['bmc.example.org'], 'BMC.example.org', True),
    (['bmc.example.org'], 'x.bmc.example.org', False),
    ([], '192.0.2.1', False),
])
def test_the_allow_list_matches_networks_and_exact_names(entries, host,
                                                         allowed):
    assert conf.BmcHostAllowList.parse(entries).allows(host) is allowed


def test_passwords_stay_out_of_repr(directory):
    target = directory.target_for('compute-02')
    assert NODE_SECRET not in repr(target)
    assert 'compute-02' in repr(target)
    assert NODE_SECRET not in repr(bmc.Credentials('root', NODE_SECRET))
    assert SECRET not in target.url
