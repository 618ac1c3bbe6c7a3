"""ReadFromKafka and WriteToKafka refuse bad configuration when the pipeline is built."""

import pickle

import pytest

from connectors.kafka_config import KafkaConnection, default_brokers
from connectors.kafka_read import ReadFromKafka
from connectors.kafka_security import KafkaSecurity
from connectors.kafka_write import WriteToKafka

SERVERS = '127.0.0.1:9092'


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'bootstrap_servers': ''}, 'bootstrap_servers is empty'),
        ({'bootstrap_servers': []}, 'bootstrap_servers is empty'),
        ({'bootstrap_servers': 'localhost'}, "'localhost' is not host:port"),
        ({'bootstrap_servers': 'h:99999'}, 'is not host:port'),
        ({'topics': []}, 'topics is empty'),
        ({'topics': ['bad topic!']}, 'not a valid Kafka topic name'),
        ({'group_id': None}, 'a group_id is needed'),
        ({'start_from': 'beginning'}, 'start_from must be one of committed, earliest, latest'),
        ({'start_from': -5}, 'start_from must be'),
        ({'stop_at': 'forever'}, 'stop_at must be None'),
        ({'start_from': 2000, 'stop_at': 1000}, 'the time range is empty'),
        ({'committed_fallback': 'committed'}, 'committed_fallback must be'),
        ({'idle_timeout_s': 0}, 'idle_timeout_s must be > 0'),
        ({'max_out_of_orderness_s': -1}, 'max_out_of_orderness_s must be >= 0'),
        ({'poll_timeout_ms': 0}, 'poll_timeout_ms must be > 0'),
        ({'event_time_ms': 'timestamp'}, 'event_time_ms must be a function'),
        ({'security_protocol': 'TLS'}, "security_protocol 'TLS' is not one of"),
        ({'security_protocol': 'SASL_SSL'}, 'needs sasl_mechanism'),
        (
            {'security_protocol': 'SASL_SSL', 'client_options': {'sasl_mechanism': 'PLAIN'}},
            'needs sasl_plain_username and sasl_plain_password',
        ),
        ({'client_options': {'sasl_mechanism': 'PLAIN'}}, 'use SASL_PLAINTEXT or SASL_SSL'),
        ({'client_options': {'ssl_cafile': '/ca.pem'}}, 'need security_protocol SSL or SASL_SSL'),
        (
            {'client_options': {'max_pol_records': 10}},
            "unknown Kafka client option(s) ['max_pol_records']",
        ),
        ({'client_options': {'enable_auto_commit': True}}, 'set by the connector itself'),
    ],
)
def test_read_refuses_bad_configuration_saying_what_to_fix(kwargs, message):
    arguments = {'bootstrap_servers': SERVERS, 'topics': ['orders'], 'group_id': 'g'}
    arguments.update(kwargs)
    with pytest.raises(ValueError) as raised:
        ReadFromKafka(**arguments)
    assert message in str(raised.value)


def test_read_accepts_a_complete_sasl_ssl_configuration():
    ReadFromKafka(
        SERVERS,
        ['orders'],
        group_id='g',
        security_protocol='SASL_SSL',
        client_options={
            'sasl_mechanism': 'SCRAM-SHA-512',
            'sasl_plain_username': 'u',
            'sasl_plain_password': 'p',
            'ssl_cafile': '/etc/ssl/ca.pem',
            'max_poll_records': 1000,
        },
    )


def test_bounded_read_without_a_group_needs_no_commit():
    ReadFromKafka(SERVERS, ['orders'], start_from='earliest', stop_at='end')


def test_committing_needs_a_group_and_no_group_means_no_commits():
    with pytest.raises(ValueError, match='group_id'):
        ReadFromKafka(SERVERS, ['orders'], start_from='earliest', commit_offsets=True)
    ReadFromKafka(SERVERS, ['orders'], start_from='earliest')


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'topic': ''}, 'not a valid Kafka topic name'),
        ({'value_fn': None}, 'value_fn and key_fn must be functions'),
        ({'key_fn': 'card_id'}, 'value_fn and key_fn must be functions'),
        ({'flush_timeout_s': 0}, 'flush_timeout_s must be > 0'),
        ({'bootstrap_servers': ' , '}, 'bootstrap_servers is empty'),
        ({'client_options': {'acks': 1}}, 'set by the connector itself'),
    ],
)
def test_write_refuses_bad_configuration_saying_what_to_fix(kwargs, message):
    arguments = {'bootstrap_servers': SERVERS, 'topic': 'alerts', 'value_fn': bytes}
    arguments.update(kwargs)
    with pytest.raises(ValueError) as raised:
        WriteToKafka(**arguments)
    assert message in str(raised.value)


def test_connection_passes_only_options_each_client_knows():
    connection = KafkaConnection.of(
        'a:1,b:2', client_options={'max_poll_records': 5, 'linger_ms': 7}
    )
    consumer = connection.consumer_config(group_id='g')
    producer = connection.producer_config(acks='all')
    assert consumer['bootstrap_servers'] == ['a:1', 'b:2']
    assert consumer['max_poll_records'] == 5 and 'linger_ms' not in consumer
    assert producer['linger_ms'] == 7 and 'max_poll_records' not in producer
    assert producer['acks'] == 'all' and consumer['group_id'] == 'g'


def test_client_options_override_a_connectors_defaults_and_its_settings_override_both():
    default = {'fetch_max_wait_ms': 100}
    plain = KafkaConnection.of('a:1')
    tuned = KafkaConnection.of('a:1', client_options={'fetch_max_wait_ms': 500})
    assert plain.consumer_config(defaults=default)['fetch_max_wait_ms'] == 100
    assert tuned.consumer_config(defaults=default)['fetch_max_wait_ms'] == 500
    assert tuned.consumer_config(defaults=default, fetch_max_wait_ms=50)['fetch_max_wait_ms'] == 50


SECRET = 'n0t-in-any-repr'


def test_repr_of_a_connection_never_shows_a_password():
    connection = KafkaConnection.of(
        SERVERS,
        'SASL_SSL',
        {
            'sasl_mechanism': 'SCRAM-SHA-512',
            'sasl_plain_username': 'u',
            'sasl_plain_password': SECRET,
        },
    )
    for shown in (repr(connection), str(connection), repr([connection])):
        assert SECRET not in shown and "'sasl_plain_password': '***'" in shown


def test_read_and_write_take_a_kafka_security_and_read_its_password_when_a_client_is_made(
    monkeypatch,
):
    security = KafkaSecurity('SASL_SSL', 'SCRAM-SHA-512', 'u', password_env='KAFKA_PW')
    read = ReadFromKafka(SERVERS, ['orders'], group_id='g', security=security)
    write = WriteToKafka(SERVERS, 'alerts', bytes, security=security)
    for transform in (read, write):
        assert SECRET.encode() not in pickle.dumps(transform)  # what goes to the workers
    monkeypatch.setenv('KAFKA_PW', SECRET)
    config = read._connection.consumer_config(group_id='g')  # what DoFn.setup does
    assert config['security_protocol'] == 'SASL_SSL'
    assert config['sasl_plain_password'] == SECRET and config['group_id'] == 'g'
    assert SECRET not in repr(read._connection)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'security_protocol': 'SSL'}, 'not both'),
        ({'client_options': {'sasl_plain_username': 'v'}}, 'do not give them in client_options'),
        ({'security': 'SASL_SSL'}, 'must be a KafkaSecurity'),
    ],
)
def test_security_and_the_same_settings_in_other_arguments_are_refused(kwargs, message):
    arguments = {'security': KafkaSecurity('SASL_SSL', 'PLAIN', 'u', password_env='KAFKA_PW')}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        WriteToKafka(SERVERS, 'alerts', bytes, **arguments)


@pytest.mark.parametrize(
    'environment, expected',
    [
        ({}, '127.0.0.1:9092'),
        ({'GOLDSTREAM_KAFKA_PORT': '19092'}, '127.0.0.1:19092'),
        (
            {'GOLDSTREAM_BROKERS': 'kafka-1:9093,kafka-2:9093', 'GOLDSTREAM_KAFKA_PORT': '19092'},
            'kafka-1:9093,kafka-2:9093',
        ),
        ({'GOLDSTREAM_BROKERS': '  '}, '127.0.0.1:9092'),
    ],
)
def test_every_command_finds_kafka_where_the_environment_says(monkeypatch, environment, expected):
    for name in ('GOLDSTREAM_BROKERS', 'GOLDSTREAM_KAFKA_PORT'):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert default_brokers() == expected
