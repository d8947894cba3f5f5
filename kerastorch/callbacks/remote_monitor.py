"""`RemoteMonitor`: post each epoch's logs to an HTTP server (stdlib `urllib`, no extra
package)."""

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from kerastorch.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Send the epoch logs (and `epoch`) to `root + path` with an HTTP POST at each epoch end.

    The body is a form with `field` holding the logs as a JSON string, or, with
    `send_as_json=True`, the JSON object itself (`Content-Type: application/json`).

    Args:
        root: Root URL of the target server. Defaults to `"http://localhost:9000"`.
        path: Path relative to `root`. Defaults to `"/publish/epoch/end/"`.
        field: Form field holding the data. Defaults to `"data"`.
        headers: Optional dict of extra HTTP headers.
        send_as_json: Send the data as JSON. Defaults to `False`.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False, timeout=10.0):
        super().__init__()
        self.root, self.path, self.field, self.timeout = root, path, field, timeout
        self.headers, self.send_as_json = headers, send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
