"""The `wuji` command: Django's management commands under the platform's name.

`wuji serve`, `wuji worker`, `wuji scheduler`, `wuji ledger verify`, `wuji audit verify`, `wuji backup`,
`wuji restore`, `wuji demo`…
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuji.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv if argv is None else argv)
    args[0] = "wuji"
    execute_from_command_line(args)


if __name__ == "__main__":
    main()
