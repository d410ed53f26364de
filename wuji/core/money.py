"""Money is an integer number of 分 (fen) everywhere; unit prices are Decimal with 8 places.

No floats: 1 元 = 100 分, the smallest payable unit is 0.01 元.
"""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

FEN_PER_YUAN = 100
UNIT_PRICE_QUANT = Decimal("0.00000001")


class MoneyError(ValueError):
    pass


def yuan_to_fen(value: str | Decimal | int) -> int:
    """Parse an amount in 元 ("12.34") into 分 (1234). More than two decimals is an error, not a rounding."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    fen = amount * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise MoneyError(f"more than two decimal places: {value!r}")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_cny(fen: int) -> str:
    """¥1,234.56 — for display only."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{fen_to_yuan(abs(fen)):,.2f}"


def charge_for_usage(unit_price_per_hour: Decimal, seconds: int, carried: Decimal = Decimal(0)) -> tuple[int, Decimal]:
    """Exact usage cost in 元 plus the carried remainder, deducted rounded *down* to the fen.

    Returns (fen to charge, remainder in 元 to carry to the next settlement), so the total charged over
    any period equals the exact usage rounded down once.
    """
    exact = (unit_price_per_hour * seconds / 3600) + carried
    charged = (exact * FEN_PER_YUAN).to_integral_value(rounding=ROUND_DOWN)
    return int(charged), exact - charged / FEN_PER_YUAN
