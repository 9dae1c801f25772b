"""Sweep's HTTP API from Python, with the standard library only (pandas optional, for to_dataframe).

    from sweep_client import SweepClient
    client = SweepClient("https://sweep-api:8443", token="…", ca_file="ca.crt")
    sweep_id = client.submit({"name": "demo", "search": {...}})
    for event, data in client.watch(sweep_id):
        print(event, data)
    front = client.front(sweep_id)
    df = client.to_dataframe(sweep_id)

Formats are those of the repository's docs/interface.md: a status is what `sweep status ID --json` prints, a front is
front.json, a trial is one line of trials.jsonl.
"""

import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["SweepClient", "SweepError"]
__version__ = "0.1.0"


class SweepError(Exception):
    """The API answered an error: ``status`` is the HTTP status, ``message`` its one-line error (naming the field)."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def field(self):
        """The spec field a 400 names (``sweep: FIELD: reason``), else None."""
        parts = self.message.split(": ")
        return parts[1] if self.status == 400 and len(parts) >= 3 and parts[0] == "sweep" else None


class SweepClient:
    """A client of one Sweep API (a silo's ``--http-port``, or ``sweep run --ui``).

    ``token``: the cluster's client credential (default: ``SWEEP_TOKEN``); ``ca_file``: the authority to trust for
    HTTPS (the cluster's ``ca.crt``); ``timeout``: seconds per request.
    """

    def __init__(self, url, token=None, ca_file=None, timeout=30.0):
        self.url = url.rstrip("/") + "/"
        self.token = token if token is not None else os.environ.get("SWEEP_TOKEN") or None
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_file) if ca_file else None

    # ---- requests ----------------------------------------------------------------------------------------------------
    def _request(self, method, path, body=None, headers=None, timeout=None):
        data = None
        all_headers = {"Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        if self.token:
            all_headers["Authorization"] = "Bearer " + self.token
        all_headers.update(headers or {})
        request = urllib.request.Request(urllib.parse.urljoin(self.url, path), data=data, method=method, headers=all_headers)
        try:
            return urllib.request.urlopen(request, timeout=timeout or self.timeout, context=self._context)
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read().decode("utf-8")).get("error") or e.reason
            except (ValueError, AttributeError):
                message = e.reason
            raise SweepError(e.code, message) from None

    def _json(self, method, path, body=None):
        with self._request(method, path, body) as response:
            return json.loads(response.read().decode("utf-8"))

    @staticmethod
    def _id(sweep_id):
        return urllib.parse.quote(sweep_id, safe="")

    # ---- the API -----------------------------------------------------------------------------------------------------
    def sweeps(self):
        """The sweeps the cluster knows, oldest first."""
        return self._json("GET", "api/sweeps")

    def submit(self, spec, sweep_id=None):
        """Submits a spec (a dict, or the JSON text of a spec file); returns the sweep id. A bad spec raises SweepError 400."""
        body = spec.encode("utf-8") if isinstance(spec, str) else spec
        path = "api/sweeps" + ("?id=" + urllib.parse.quote(sweep_id, safe="") if sweep_id else "")
        return self._json("POST", path, body)["id"]

    def status(self, sweep_id):
        return self._json("GET", f"api/sweeps/{self._id(sweep_id)}")

    def front(self, sweep_id):
        """Both Pareto fronts: front.json (``points`` and ``nodeFront``)."""
        return self._json("GET", f"api/sweeps/{self._id(sweep_id)}/front")

    def trials_page(self, sweep_id, offset=0, limit=1000):
        """One page of finished trials: ``{"total", "offset", "limit", "trials": [...]}``."""
        return self._json("GET", f"api/sweeps/{self._id(sweep_id)}/trials?offset={int(offset)}&limit={int(limit)}")

    def trials(self, sweep_id):
        """Every finished trial (result lines with epochs and layers), in the order the cluster stored them."""
        out, offset = [], 0
        while True:
            page = self.trials_page(sweep_id, offset, 1000)
            out.extend(page["trials"])
            offset += len(page["trials"])
            if len(page["trials"]) < 1000:
                return out

    def trial(self, sweep_id, trial_id):
        """One trial with its epochs and layers (or its progress while it runs)."""
        return self._json("GET", f"api/sweeps/{self._id(sweep_id)}/trials/{self._id(trial_id)}")

    def cancel(self, sweep_id):
        """Stops the sweep's running trials and starts no more; returns the status."""
        return self._json("POST", f"api/sweeps/{self._id(sweep_id)}/cancel")

    def watch(self, sweep_id, since=0, timeout=None):
        """Yields ``(event, data)`` from the sweep's events stream until it ends: ``("status", status)``,
        ``("front", front)``, ``("result", trial)`` for each finished trial (from position ``since``), and ``("end", {})``.
        Reconnects from where it was when the connection drops or the API answers 503 (waiting 1 s, doubling up to 30 s;
        ``timeout`` seconds without a byte count as a drop); other errors raise SweepError."""
        position = since
        delay = 1.0
        while True:
            path = f"api/sweeps/{self._id(sweep_id)}/events?from={position}"
            ended = False
            try:
                with self._request("GET", path, headers={"Accept": "text/event-stream"}, timeout=timeout or 60) as response:
                    event, data = None, []
                    for raw in response:
                        line = raw.decode("utf-8").rstrip("\r\n")
                        if line == "":
                            if event and data:
                                payload = json.loads("\n".join(data))
                                if event == "results":
                                    for trial in payload["trials"]:
                                        position = trial["position"] + 1
                                        yield "result", trial
                                else:
                                    yield event, payload
                                if event == "end":
                                    ended = True
                                    break
                            event, data = None, []
                        elif line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:"):
                            data.append(line[5:].lstrip())
                        delay = 1.0   # bytes arrived: the next drop waits 1 s again
            except SweepError as e:
                if e.status != 503:
                    raise
            # A dropped, timed-out or cut stream (socket.timeout is not TimeoutError before 3.10; a cut chunk raises
            # http.client.IncompleteRead; URLError covers a refused connection): open it again from the last position.
            except (OSError, http.client.HTTPException, urllib.error.URLError):
                pass
            if ended:
                return
            time.sleep(delay)
            delay = min(30.0, delay * 2)

    def to_dataframe(self, sweep_id):
        """The finished trials as a pandas DataFrame, one row per trial, parameters flattened (``params.lambda``…)."""
        try:
            import pandas
        except ImportError as e:
            raise ImportError("to_dataframe needs pandas (pip install 'sweep-client[pandas]')") from e
        rows = []
        for t in self.trials(sweep_id):
            row = {k: v for k, v in t.items() if k not in ("params", "epochs", "layers")}
            row.update({"params." + k: v for k, v in (t.get("params") or {}).items()})
            rows.append(row)
        return pandas.DataFrame(rows)
