"""The instruction log as CSV (clause 3.1), shared by the API export and the portal's download.

UTF-8 with a byte-order mark so Excel shows Chinese; times in business time (UTC+8); cells that a
spreadsheet would run as a formula are defused with a leading apostrophe (CSV injection).
"""

import csv
import json
from collections.abc import Iterable
from typing import Protocol

from wuji.audit.models import Instruction
from wuji.core import clock

BOM = "\ufeff"
HEADER = [
    "序号 seq",
    "时间(UTC+8) time",
    "渠道 channel",
    "指令 action",
    "对象类型 target_type",
    "对象 target_id",
    "参数 params",
    "IP ip",
    "结果 result",
    "说明 detail",
    "关联指令 refers_to",
]
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class TextStream(Protocol):
    def write(self, text: str, /) -> object: ...


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _row(instr: Instruction) -> list[object]:
    return [
        instr.seq,
        instr.created_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        instr.channel,
        instr.action,
        instr.target_type,
        instr.target_id,
        json.dumps(instr.params, ensure_ascii=False, sort_keys=True) if instr.params else "",
        instr.ip or "",
        instr.result,
        instr.detail,
        instr.refers_to.seq if instr.refers_to_id else "",
    ]


def write_instructions_csv(instructions: Iterable[Instruction], stream: TextStream) -> None:
    """Write the instructions (select_related("refers_to") to avoid a query per outcome) to a text stream."""
    stream.write(BOM)
    writer = csv.writer(stream)
    writer.writerow(HEADER)
    for instr in instructions:
        writer.writerow([_cell(value) for value in _row(instr)])
