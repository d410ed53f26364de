"""Amounts in Chinese capitals (大写金额), as written on contracts and cheques.

Rules (the ones banks and the 会计基础工作规范 use): digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within a group of
four and 万/亿 between groups; one 零 stands for any run of zeros between non-zero digits (also across a group
boundary), trailing zeros are not written; 拾 keeps its 壹 (壹拾元); an amount with no 分 ends in 整
(壹佰元整, 壹元伍角整); 角 zero with 分 present is written 零 (壹元零伍分).
"""

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("仟", "佰", "拾", "")
GROUP_UNITS = ("", "万", "亿", "万亿")


def _group(value: int) -> str:
    """1..9999 → 壹仟零伍 (no leading 零; internal runs of zeros become one 零; trailing zeros dropped)."""
    text, pending_zero = "", False
    for digit, unit in zip(f"{value:04d}", SMALL_UNITS, strict=True):
        if digit == "0":
            pending_zero = bool(text)
            continue
        if pending_zero:
            text += "零"
            pending_zero = False
        text += DIGITS[int(digit)] + unit
    return text


def _integer(value: int) -> str:
    groups = []
    while value:
        value, group = divmod(value, 10_000)
        groups.append(group)
    if len(groups) > len(GROUP_UNITS):
        raise ValueError("amount too large")
    text, zero_before = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_before = bool(text)
            continue
        if text and (zero_before or group < 1000):
            text += "零"
        text += _group(group) + GROUP_UNITS[index]
        zero_before = False
    return text


def fen_to_capitals(fen: int) -> str:
    """Integer fen → 大写金额: 123450 → 壹仟贰佰叁拾肆元伍角整; 0 → 零元整; negative amounts get 负."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise TypeError("amounts are integers in fen")
    if fen < 0:
        return "负" + fen_to_capitals(-fen)
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    text = _integer(yuan)
    if text:
        text += "元"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif fen_digit and text:
        text += "零"
    if fen_digit:
        text += DIGITS[fen_digit] + "分"
    else:
        text = (text or "零元") + "整"
    return text
