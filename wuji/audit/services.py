"""Recording and verifying instructions (clause 3.1)."""

import hashlib
import json

from django.db import transaction

from wuji.core import clock

from .choices import Result
from .models import ChainHead, DataAccess, Instruction

SECRET_PARAM_NAMES = {"password", "root_password", "secret", "token", "code"}


def _canonical(fields: dict) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _content(instr: Instruction) -> dict:
    return {
        "seq": instr.seq,
        "created_at": instr.created_at.isoformat(),
        "actor": instr.actor_id,
        "owner": instr.owner_id,
        "channel": instr.channel,
        "action": instr.action,
        "target_type": instr.target_type,
        "target_id": instr.target_id,
        "params": instr.params,
        "ip": instr.ip,
        "result": instr.result,
        "detail": instr.detail,
        "refers_to": instr.refers_to_id,
    }


def compute_hash(prev_hash: str, instr: Instruction) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(_content(instr))).hexdigest()


def _scrub(params: dict) -> dict:
    return {k: ("***" if k in SECRET_PARAM_NAMES else v) for k, v in (params or {}).items()}


def record(*, actor, owner, channel: str, action: str, target=None, params: dict | None = None,
           ip: str | None = None, result: str = Result.ACCEPTED, detail: str = "",
           refers_to: Instruction | None = None) -> Instruction:
    """Append one record to the chain, in the caller's transaction. Secret parameters are never stored."""
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(pk=1)
        instr = Instruction(
            seq=head.length + 1,
            created_at=clock.now(),
            actor=actor if getattr(actor, "pk", None) else None,
            owner=owner if getattr(owner, "pk", None) else None,
            channel=channel,
            action=action,
            target_type=type(target).__name__.lower() if target is not None else "",
            target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
            params=json.loads(_canonical(_scrub(params))),
            ip=ip or None,
            result=result,
            detail=str(detail)[:500],
            refers_to=refers_to,
            prev_hash=head.last_hash,
        )
        instr.hash = compute_hash(head.last_hash, instr)
        instr.save()
        ChainHead.objects.filter(pk=1).update(last_hash=instr.hash, length=instr.seq)
    return instr


def record_outcome(instruction: Instruction, *, succeeded: bool, detail: str = "") -> Instruction:
    """The result of an accepted instruction, as a new record referring to it."""
    return record(
        actor=None, owner=instruction.owner, channel="system", action=instruction.action,
        target=None, params={}, result=Result.SUCCEEDED if succeeded else Result.FAILED,
        detail=detail, refers_to=instruction,
    ) if instruction else None


def verify() -> list[str]:
    """Walk the chain in order; report every broken link, gap or altered record."""
    problems = []
    prev_hash = "0" * 64
    expected_seq = 1
    for instr in Instruction.objects.order_by("seq").iterator(chunk_size=2000):
        if instr.seq != expected_seq:
            problems.append(f"gap: expected #{expected_seq}, found #{instr.seq}")
        if instr.prev_hash != prev_hash:
            problems.append(f"#{instr.seq}: previous-hash link broken")
        if compute_hash(instr.prev_hash, instr) != instr.hash:
            problems.append(f"#{instr.seq}: content does not match its hash (altered)")
        prev_hash, expected_seq = instr.hash, instr.seq + 1
    head = ChainHead.objects.filter(pk=1).first()
    if head and (head.length != expected_seq - 1 or head.last_hash != prev_hash):
        problems.append("chain head does not match the last record (records removed from the end?)")
    return problems


def instructions_for(owner):
    """The instruction log of one account: what they issued and its outcomes, newest first."""
    return Instruction.objects.filter(owner=owner).select_related("actor", "refers_to").order_by("-seq")


def record_data_access(*, staff, subject, field: str, reason: str, target=None, ip: str | None = None) -> DataAccess:
    """Log one staff read of a customer's personal data in the clear (§3.8). Call it before showing the value."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("a data access needs a reason")
    return DataAccess.objects.create(
        created_at=clock.now(), staff=staff, subject=subject, field=field, reason=reason[:500], ip=ip or None,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
    )


def data_accesses_of(subject):
    """Every staff read of one person's data in the clear, newest first."""
    return DataAccess.objects.filter(subject=subject).select_related("staff")
