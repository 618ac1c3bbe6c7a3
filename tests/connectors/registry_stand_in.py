"""A stand-in for a Confluent Schema Registry: a local HTTP server that replays set answers.

Confluent's registry is a Java service that neither PyPI nor Maven Central serves, so the
registry tests talk HTTP to this instead. Each answer is given by the test in the shape of
Confluent's REST API (``recorded_answers`` has those of one order schema registered as id 1
under ``orders-value``), and every request is recorded, so a test can tell what reached the
registry. It listens on 127.0.0.1 only, on a port the system picks.
"""

import http.server
import json
import threading
from typing import Any

CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
NOT_FOUND = (404, {'error_code': 404, 'message': 'HTTP 404 Not Found'})


def recorded_answers(
    schema: dict[str, Any], schema_id: int = 1, subject: str = 'orders-value'
) -> dict[tuple[str, str], tuple[int, Any]]:
    """What a Confluent registry answers once ``schema`` is version 1 of ``subject`` with
    ``schema_id``: registering it again, its schema by id (no ``schemaType``: Avro), the
    subjects and versions of the id, the version by subject, and the schema types."""
    text = json.dumps(schema)
    return {
        ('POST', f'/subjects/{subject}/versions'): (200, {'id': schema_id}),
        ('GET', f'/schemas/ids/{schema_id}'): (200, {'schema': text}),
        ('GET', f'/schemas/ids/{schema_id}/versions'): (200, [{'subject': subject, 'version': 1}]),
        ('GET', f'/subjects/{subject}/versions/1'): (
            200,
            {'subject': subject, 'version': 1, 'id': schema_id, 'schema': text},
        ),
        ('GET', '/schemas/types'): (200, ['JSON', 'PROTOBUF', 'AVRO']),
    }


class RegistryStandIn:
    """A started server (use as a context manager) with ``url``, ``answers`` and ``requests``.

    ``answers`` maps (method, path without the query) to (HTTP status, JSON body); any other
    request gets 404. ``requests`` lists (method, path with the query) in arrival order.
    """

    def __init__(self, answers: dict[tuple[str, str], tuple[int, Any]]) -> None:
        self.answers = dict(answers)
        self.requests: list[tuple[str, str]] = []
        stand_in = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # pylint: disable=invalid-name
                stand_in._answer(self)

            def do_POST(self) -> None:  # pylint: disable=invalid-name
                self.rfile.read(int(self.headers.get('Content-Length', 0)))
                stand_in._answer(self)

            def log_message(self, *args: Any) -> None:
                pass  # no request lines on stderr

        self._server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        # serve_forever looks for a shutdown request this often: a short wait at the test's end.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f'http://{host}:{port}'  # type: ignore[str-bytes-safe]  # TCP: host is a str

    def __enter__(self) -> 'RegistryStandIn':
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _answer(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        self.requests.append((handler.command, handler.path))
        status, body = self.answers.get((handler.command, handler.path.split('?', 1)[0]), NOT_FOUND)
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header('Content-Type', CONTENT_TYPE)
        handler.send_header('Content-Length', str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
