"""TEMPORARY — remove once the server verifies WUJI-HMAC-SHA256 signatures (decision 0046).

Until request signing lands on the server, this branch's server still takes `Authorization: Bearer
<key_id>.<secret>`. The live CLI tests then run `wuji-cli` through this module: the real CLI, with a test-local
client subclass that sends the Bearer header instead of the signature. Nothing in wuji_sdk knows about Bearer.
After the merge, delete this file and `BEARER_UNTIL_SIGNING_LANDS` in test_sdk_cli_live.py.
"""

from wuji_sdk import cli
from wuji_sdk.client import Client


class BearerClient(Client):
    def authorization_headers(self, **_request) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key_id}.{self.secret}"}


if __name__ == "__main__":
    cli.Client = BearerClient
    cli.run()
