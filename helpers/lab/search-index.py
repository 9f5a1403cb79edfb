# A stand-in for Docker Hub's search index: the registry v1 search API (/v1/_ping, /v1/search) over the catalogue of
# the run's registry, behind that registry's own basic auth. It keeps no credentials: each request's Authorization
# header goes on to the registry, and the registry's refusal is the index's answer. Python 3 standard library only, so
# that it runs on the official python image as on its stand-in.
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGISTRY = os.environ["INDEX_REGISTRY"]
PORT = int(os.environ["INDEX_PORT"])
MANIFESTS = os.environ["INDEX_MANIFEST_TYPES"]
# What a client needs of the registry's answer to `GET /v2/` to log in: its challenge and its API version.
PASSED_ON = ("WWW-Authenticate", "Docker-Distribution-Api-Version")
# Docker Hub lists its official repositories, `library/<name>`, by their short name and marks them official.
OFFICIAL = "library/"
DESCRIPTION = "org.opencontainers.image.description"


def from_registry(path, authorization, accept="application/json"):
    request = urllib.request.Request(urllib.parse.urljoin(REGISTRY, path), headers={"Accept": accept})
    if authorization:
        request.add_header("Authorization", authorization)
    return urllib.request.urlopen(request, timeout=10)


def registry_json(path, authorization, accept="application/json"):
    with from_registry(path, authorization, accept) as response:
        return json.load(response)


# The registry keeps no descriptions: a repository's is the one its `latest` image declares in its labels.
def description(repository, authorization):
    try:
        manifest = registry_json(f"/v2/{repository}/manifests/latest", authorization, MANIFESTS)
        if "manifests" in manifest:
            first = manifest["manifests"][0]["digest"]
            manifest = registry_json(f"/v2/{repository}/manifests/{first}", authorization, MANIFESTS)
        config = registry_json(f"/v2/{repository}/blobs/{manifest['config']['digest']}", authorization)
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return ""
        raise
    return ((config.get("config") or {}).get("Labels") or {}).get(DESCRIPTION, "")


# The registry answers its catalogue a page at a time, naming the next page in a Link header.
def catalogue(authorization):
    names, page = [], "/v2/_catalog"
    while page:
        with from_registry(page, authorization) as response:
            names += json.load(response).get("repositories") or []
            following = re.match(r"<([^>]+)>", response.headers.get("Link", ""))
        page = following and following[1]
    return names


def search(term, limit, authorization):
    matching = [name for name in catalogue(authorization) if term.lower() in name.lower()]
    results = [
        {
            "name": name[len(OFFICIAL) :] if name.startswith(OFFICIAL) else name,
            "description": description(name, authorization),
            "star_count": 0,
            "is_official": name.startswith(OFFICIAL),
            "is_automated": False,
        }
        for name in matching[:limit]
    ]
    return {"query": term, "num_results": len(matching), "page_size": limit, "results": results}


class Index(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        authorization = self.headers.get("Authorization")
        try:
            if url.path == "/v1/_ping":
                self.answer(200, True, {"X-Docker-Registry-Standalone": "true"})
            elif url.path == "/v1/search":
                limit = query.get("n", ["25"])[0]
                if not limit.isdigit():
                    return self.answer(400, {"error": f"n={limit}: give a number of results"})
                self.answer(200, search(query.get("q", [""])[0], int(limit), authorization))
            elif url.path == "/v2/":
                with from_registry("/v2/", authorization) as response:
                    self.answer(response.status, json.load(response), self.passed_on(response.headers))
            else:
                self.answer(404, {"error": f"{url.path}: this index serves /v1/_ping, /v1/search and /v2/"})
        except urllib.error.HTTPError as error:
            self.answer(error.code, {"error": f"the registry answered {error.code}"}, self.passed_on(error.headers))
        except (urllib.error.URLError, OSError) as error:
            self.answer(502, {"error": f"the registry did not answer: {error}"})
        except Exception as error:
            self.log_error("%s: %r", url.path, error)
            self.answer(500, {"error": f"the index failed: {error!r}"})

    # The engine tries HTTPS first and falls back to HTTP: its TLS hello is logged as a bad request, in printable form.
    def log_message(self, format, *args):
        sys.stderr.write(ascii(format % args)[1:-1] + "\n")

    def passed_on(self, headers):
        return {name: headers[name] for name in PASSED_ON if headers.get(name)}

    def answer(self, status, body, headers=None):
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


server = ThreadingHTTPServer(("", PORT), Index)
print(f"search index: serving /v1/search on port {PORT} over the catalogue of {REGISTRY}", flush=True)
server.serve_forever()
