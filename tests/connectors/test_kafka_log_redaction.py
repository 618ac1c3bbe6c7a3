"""kafka-python's log records never carry a registered password, whatever the log level."""

import logging

from connectors.kafka_log_redaction import redact_in_kafka_logs
from connectors.kafka_security import KafkaSecurity

SECRET = 'l0gged-n3ver'


def test_the_config_kafka_python_logs_at_debug_shows_no_password(caplog):
    security = KafkaSecurity('SASL_PLAINTEXT', 'PLAIN', 'u', SECRET)
    config = security.client_config()  # registers the password, as every client does
    with caplog.at_level(logging.DEBUG, logger='kafka'):
        logging.getLogger('kafka.admin.client').debug(
            'Starting KafkaAdminClient with configuration: %s', config
        )
        logging.getLogger('kafka.protocol.parser').debug('Send: %r', SECRET.encode())
    assert len(caplog.records) == 2
    assert SECRET not in caplog.text and "'sasl_plain_password': '***'" in caplog.text


def test_other_loggers_and_records_without_a_secret_are_untouched(caplog):
    redact_in_kafka_logs(SECRET)
    with caplog.at_level(logging.INFO):
        logging.getLogger('kafka.net.connection').info('connected to %s', '127.0.0.1:9092')
        logging.getLogger('goldstream.elsewhere').info('plain %s', 'text')
    assert [r.getMessage() for r in caplog.records] == ['connected to 127.0.0.1:9092', 'plain text']
