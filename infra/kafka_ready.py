"""Exit 0 when a Kafka broker at the given address answers a metadata request, else 1.

Used by run_local.sh to decide that a freshly started broker is ready.
Usage: python infra/kafka_ready.py 127.0.0.1:9092 [timeout_seconds]
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from connectors.kafka_topics import broker_answers  # noqa: E402

if __name__ == '__main__':
    wait_s = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    sys.exit(0 if broker_answers(sys.argv[1], wait_s) else 1)
