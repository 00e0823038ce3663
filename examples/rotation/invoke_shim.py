"""Serves a Python Lambda handler on the Lambda invoke API, without Docker, as the Lambda Runtime
Interface Emulator does: ``POST /2015-03-31/functions/function/invocations`` with the event as
the body. A handler that raises answers with ``X-Amz-Function-Error: Unhandled`` and an
``errorMessage``/``errorType`` body. Standard library only.

    python3 invoke_shim.py rotation_function.lambda_handler --port 9000

Prints ``invoke shim: listening on http://127.0.0.1:PORT`` when ready (``--port 0``: a free port).
"""

import argparse
import importlib
import json
import os
import sys
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/2015-03-31/functions/function/invocations"


class Context:
    function_name = "function"
    aws_request_id = "shim"

    def get_remaining_time_in_millis(self):
        return 300000


def make_handler(function):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):
            sys.stderr.write("invoke shim: " + (fmt % args) + "\n")

        def reply(self, status, body, error=False):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            if error:
                self.send_header("X-Amz-Function-Error", "Unhandled")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if self.path != PATH:
                self.reply(404, {"errorMessage": "unknown path " + self.path, "errorType": "NotFound"})
                return
            length = int(self.headers.get("content-length") or 0)
            try:
                event = json.loads(self.rfile.read(length) or b"{}")
            except ValueError as e:
                self.reply(400, {"errorMessage": str(e), "errorType": "InvalidRequestContent"})
                return
            try:
                result = function(event, Context())
                self.reply(200, result)
            except Exception as e:  # the function failed: report it as Lambda does
                self.reply(
                    200,
                    {
                        "errorMessage": str(e),
                        "errorType": type(e).__name__,
                        "stackTrace": traceback.format_exception(type(e), e, e.__traceback__),
                    },
                    error=True,
                )

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("handler", help="module.function, e.g. rotation_function.lambda_handler")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args()
    module_name, _, function_name = args.handler.rpartition(".")
    sys.path.insert(0, os.getcwd())
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    function = getattr(importlib.import_module(module_name), function_name)
    server = ThreadingHTTPServer((args.bind, args.port), make_handler(function))
    print("invoke shim: listening on http://%s:%d" % (args.bind, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
