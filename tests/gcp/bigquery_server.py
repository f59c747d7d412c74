"""A local stand-in for the BigQuery REST API, enough for google-cloud-bigquery's ``query_and_wait``:
jobs.query (POST /bigquery/v2/projects/{p}/queries), and, when the query is not complete at once, jobs.get
(GET .../jobs/{id}) and jobs.getQueryResults (GET .../queries/{id}). It answers with the rows it is given, in
the API's shape (``schema.fields`` and ``rows[].f[].v`` as strings), and records every request it receives."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from terraml.localhost import free_port

SCHEMA = [{"name": "team", "type": "STRING"}, {"name": "invoice_month", "type": "STRING"},
          {"name": "currency", "type": "STRING"}, {"name": "cost", "type": "NUMERIC"},
          {"name": "credits", "type": "NUMERIC"}]


@dataclass
class FakeBigQuery:
    rows: list[tuple] = field(default_factory=list)
    """Result rows, in SCHEMA's order."""
    complete_at_once: bool = True
    """False: jobs.query answers 'not complete', so the client polls jobs.get and jobs.getQueryResults."""
    error: tuple[int, str] | None = None
    """(HTTP status, message) to answer jobs.query with, e.g. (404, 'Not found: Table ...')."""
    requests: list[tuple[str, str, dict]] = field(default_factory=list)
    """(method, path without the query string, JSON body) of every request."""
    url: str = ""

    def _result(self, job_id: str) -> dict:
        return {"kind": "bigquery#queryResponse", "jobComplete": True, "totalRows": str(len(self.rows)),
                "jobReference": {"projectId": "billing-proj", "jobId": job_id, "location": "US"},
                "schema": {"fields": SCHEMA},
                "rows": [{"f": [{"v": None if v is None else str(v)} for v in row]} for row in self.rows]}

    def answer(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        path = path.split("?", 1)[0]
        self.requests.append((method, path, body))
        if method == "POST" and re.search(r"/projects/[^/]+/queries$", path):
            if self.error:
                status, message = self.error
                return status, {"error": {"code": status, "message": message,
                                          "errors": [{"reason": "notFound", "message": message}]}}
            if self.complete_at_once:
                return 200, self._result("job-1")
            return 200, {"kind": "bigquery#queryResponse", "jobComplete": False,
                         "jobReference": {"projectId": "billing-proj", "jobId": "job-1", "location": "US"}}
        if method == "GET" and (m := re.search(r"/projects/[^/]+/jobs/([^/?]+)", path)):
            query = next(b for verb, _, b in self.requests if verb == "POST")
            return 200, {"kind": "bigquery#job", "id": f"billing-proj:US.{m[1]}",
                         "jobReference": {"projectId": "billing-proj", "jobId": m[1], "location": "US"},
                         "configuration": {"query": {"query": query.get("query", "")}, "jobType": "QUERY"},
                         "status": {"state": "DONE"}}
        if method == "GET" and (m := re.search(r"/projects/[^/]+/queries/([^/?]+)", path)):
            return 200, self._result(m[1])
        return 404, {"error": {"code": 404, "message": f"fake BigQuery has no {method} {path}"}}

    def __enter__(self) -> FakeBigQuery:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}") if size else {}
                status, data = fake.answer(method, self.path, body)
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):  # noqa: N802 - http.server's name
                self._reply("POST")

            def do_GET(self):  # noqa: N802
                self._reply("GET")

            def log_message(self, *args):
                pass

        port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def client(self):
        """A real google-cloud-bigquery client pointed at this server, with anonymous credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(project="billing-proj", credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": self.url})
