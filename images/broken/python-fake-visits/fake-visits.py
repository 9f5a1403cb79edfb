import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

visits = 0


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        global visits
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/db":
            return self.reply(200, {"db_host": os.environ.get("DB_HOST", ""), "hostname": "db", "version": "5.7.44"})
        if self.path == "/visits":
            visits += 1
            return self.reply(200, {"visits": visits, "id": visits})
        return self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
port = int(os.environ.get("PORT", "8000"))
server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
print("visits listening on %d" % port, flush=True)
server.serve_forever()
