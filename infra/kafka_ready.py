"""Exit 0 when a Kafka broker at the given address answers a metadata request, else 1.

Used by run_local.sh to decide that a freshly started broker is ready; the secured broker
is asked with the Kafka security options every goldstream client takes.
Usage: python infra/kafka_ready.py 127.0.0.1:9092 [timeout_seconds] [security options]
"""
import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from connectors.kafka_security import add_arguments, from_arguments  # noqa: E402
from connectors.kafka_topics import broker_answers  # noqa: E402

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('bootstrap', help='host:port of the broker')
    parser.add_argument('timeout_s', type=float, nargs='?', default=3.0,
                        help='how long to wait for the answer (default 3 s)')
    add_arguments(parser)
    args = parser.parse_args()
    sys.exit(0 if broker_answers(args.bootstrap, args.timeout_s, from_arguments(args)) else 1)
