"""smconform's launcher for moto: moto's WSGI application behind an HTTP/1.1 keep-alive server.

`moto_server` serves the same application (``DomainDispatcherApplication(create_backend_app)``)
with werkzeug's development server, which answers every request with ``Connection: close``: each
request then costs a TCP connection and a new thread on both sides, which is most of what a
request costs here besides moto's own work. This server keeps connections open (one thread per
connection, so a job's requests are answered by one thread in turn) and otherwise changes nothing
the application sees: the same WSGI environment wsgiref builds for any server.

Usage: python -c <this file> HOST PORT
"""

import os
import signal
import socketserver
import sys
from http.server import ThreadingHTTPServer
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler


class BoundedBody:
    """A request body: at most Content-Length bytes of the connection, so the next request on
    the connection is never read as this one's body."""

    def __init__(self, stream, length):
        self.stream = stream
        self.left = length

    def _size(self, size):
        return self.left if size is None or size < 0 else min(size, self.left)

    def read(self, size=-1):
        if self.left <= 0:
            return b""
        data = self.stream.read(self._size(size))
        self.left = 0 if not data else self.left - len(data)
        return data

    def readline(self, size=-1):
        if self.left <= 0:
            return b""
        data = self.stream.readline(self._size(size))
        self.left = 0 if not data else self.left - len(data)
        return data

    def readlines(self, hint=-1):
        return list(iter(self.readline, b""))

    def __iter__(self):
        return iter(self.readline, b"")


class ResponseWriter(ServerHandler):
    """wsgiref's handler (which logs each request as moto_server does), answering in HTTP/1.1.
    A response it cannot frame (no Content-Length, or an application error after the headers
    went out) ends the connection; an application error before that gets the answer
    moto_server gives it."""

    http_version = "1.1"

    def __init__(self, connection, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection

    def cleanup_headers(self):
        super().cleanup_headers()
        if "Content-Length" not in self.headers:
            self.headers["Connection"] = "close"
            self.connection.close_connection = True

    def handle_error(self):
        if self.headers_sent:
            # The response is cut short: only closing the connection tells the client.
            self.connection.close_connection = True
        super().handle_error()

    def error_output(self, environ, start_response):
        """What moto_server answers when the application raises: werkzeug's 500 page."""
        from werkzeug.exceptions import InternalServerError

        def restart(status, headers, exc_info=None):
            return start_response(status, headers, sys.exc_info())

        return InternalServerError()(environ, restart)


class Connection(WSGIRequestHandler):
    """One client connection: its requests, one after another, until either side closes it."""

    protocol_version = "HTTP/1.1"
    # Each response goes out in one write, without waiting for the previous one's ACK.
    disable_nagle_algorithm = True
    wbufsize = -1

    def handle(self):
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            self.handle_one_request()

    def handle_one_request(self):
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or len(self.raw_requestline) > 65536:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.send_error(411, "chunked request bodies are not supported")
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.send_error(400, "bad Content-Length")
            self.close_connection = True
            return
        body = BoundedBody(self.rfile, length)
        writer = ResponseWriter(self, body, self.wfile, self.get_stderr(), self.get_environ(), multithread=True)
        writer.request_handler = self
        writer.run(self.server.application)
        self.wfile.flush()
        # Whatever the application left unread of the body.
        while body.read(65536):
            pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):
        # Not HTTPServer.server_bind: it resolves the host's FQDN, which can wait on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = host, port
        # What wsgiref's WSGIServer gives every request's environment.
        self.base_environ = {
            "SERVER_NAME": host,
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PORT": str(port),
            "REMOTE_HOST": "",
            "CONTENT_LENGTH": "",
            "SCRIPT_NAME": "",
        }


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    # What moto_server sets before it imports the application.
    os.environ.setdefault("MOTO_PORT", str(port))
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(0))
    server = Server((host, port), Connection)
    server.application = DomainDispatcherApplication(create_backend_app)
    server.application.debug = True  # as moto_server sets it
    server.serve_forever()


if __name__ == "__main__":
    main()
