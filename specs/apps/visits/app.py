"""A visit counter for the development-flow lab: HTTP on $PORT, state in MySQL.

Only the standard library is used, so the image needs nothing beyond the python base; it therefore speaks the
few parts of the MySQL client/server protocol it needs itself (handshake, native password auth, text queries).
"""

import hashlib
import json
import os
import signal
import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
UTF8_GENERAL_CI = 33


def sha1(data):
    return hashlib.sha1(data).digest()


def native_password(password, salt):
    if not password:
        return b""
    stage1 = sha1(password.encode())
    mask = sha1(salt + sha1(stage1))
    return bytes(a ^ b for a, b in zip(stage1, mask))


class MySQLError(Exception):
    pass


class MySQL:
    def __init__(self, host, port, user, password, database):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.seq = 0
        greeting = self.read()
        pos = greeting.index(b"\0", 1) + 1 + 4
        salt = greeting[pos : pos + 8]
        pos += 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10
        salt += greeting[pos : pos + 12]
        caps = (
            CLIENT_LONG_PASSWORD | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41
            | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
        )
        auth = native_password(password, salt)
        self.write(
            struct.pack("<IIB23x", caps, 1 << 24, UTF8_GENERAL_CI)
            + user.encode() + b"\0"
            + bytes([len(auth)]) + auth
            + database.encode() + b"\0"
            + b"mysql_native_password\0"
        )
        reply = self.read()
        if reply[0] == 0xFE:
            plugin, _, new_salt = reply[1:].partition(b"\0")
            if plugin != b"mysql_native_password":
                raise MySQLError("server wants auth plugin %s" % plugin.decode())
            self.write(native_password(password, new_salt.rstrip(b"\0")))
            reply = self.read()
        self.check(reply)

    def read(self):
        header = self.recv(4)
        length = header[0] | header[1] << 8 | header[2] << 16
        self.seq = header[3] + 1
        return self.recv(length)

    def recv(self, size):
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise MySQLError("connection closed by the server")
            data += chunk
        return data

    def write(self, payload):
        self.sock.sendall(struct.pack("<I", len(payload))[:3] + bytes([self.seq & 0xFF]) + payload)
        self.seq += 1

    @staticmethod
    def check(packet):
        if packet[0] == 0xFF:
            raise MySQLError(packet[9:].decode(errors="replace"))
        return packet

    @staticmethod
    def lenenc(packet, pos):
        first = packet[pos]
        if first < 0xFB:
            return first, pos + 1
        if first == 0xFB:
            return None, pos + 1
        size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[first]
        return int.from_bytes(packet[pos + 1 : pos + 1 + size], "little"), pos + 1 + size

    def query(self, sql):
        self.seq = 0
        self.write(b"\x03" + sql.encode())
        first = self.check(self.read())
        if first[0] == 0x00:
            return []
        columns, _ = self.lenenc(first, 0)
        for _ in range(columns + 1):
            self.read()
        rows = []
        while True:
            packet = self.check(self.read())
            if packet[0] == 0xFE and len(packet) < 9:
                return rows
            row, pos = [], 0
            for _ in range(columns):
                size, pos = self.lenenc(packet, pos)
                row.append(None if size is None else packet[pos : pos + size].decode())
                pos += size or 0
            rows.append(row)

    def close(self):
        self.sock.close()


def database():
    return MySQL(
        os.environ["DB_HOST"], int(os.environ.get("DB_PORT", "3306")),
        os.environ["DB_USER"], os.environ["DB_PASSWORD"], os.environ["DB_NAME"],
    )


def prepare(attempts=60):
    for attempt in range(attempts):
        try:
            db = database()
            db.query("CREATE TABLE IF NOT EXISTS visits (id INT AUTO_INCREMENT PRIMARY KEY)")
            db.close()
            return
        except (OSError, MySQLError) as error:
            if attempt == attempts - 1:
                raise
            print("database not ready yet: %s" % error, flush=True)
            time.sleep(1)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"status": "ok"})
        if self.path == "/db":
            db = database()
            try:
                hostname, version = db.query("SELECT @@hostname, VERSION()")[0]
            finally:
                db.close()
            return self.reply(200, {"db_host": os.environ["DB_HOST"], "hostname": hostname, "version": version})
        if self.path == "/visits":
            db = database()
            try:
                db.query("INSERT INTO visits () VALUES ()")
                row = int(db.query("SELECT LAST_INSERT_ID()")[0][0])
                count = int(db.query("SELECT COUNT(*) FROM visits")[0][0])
            finally:
                db.close()
            return self.reply(200, {"visits": count, "id": row, "served_by": socket.gethostname()})
        return self.reply(404, {"error": "not found"})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    # As PID 1 it would ignore the SIGTERM of `docker stop` / `docker compose down` and wait out the grace period.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    prepare()
    port = int(os.environ.get("PORT", "8000"))
    # Bound before it says so: the lab waits for this line, then connects.
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print("visits listening on %d" % port, flush=True)
    server.serve_forever()
